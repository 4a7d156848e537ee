// The gateway's own response headers carry printable ASCII only. Node refuses to send a control character or anything
// above U+00FF in a header (the answer then fails after its status was chosen), and a client reads U+0080-U+00FF as
// Latin-1 bytes. A route id is ASCII, but a provider or model id in models.json, a tool's name or a typed shortcut
// need not be: anything outside printable ASCII is written as a \u escape, as JSON writes it, so that a JSON-valued
// header (x-auto-router-attempts) still parses to the same text.
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/g;

export const headerText = (text: string): string =>
  text.replace(NOT_PRINTABLE_ASCII, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
