// A number written as text ("0.5") in a file we read is that number: the usage ledger's salvage and the earlier
// router's stats file both read it so (README "State and logs", "Coming from the earlier pi-auto-router").
export const numberFromText = (value: unknown): unknown =>
  typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)) ? Number(value) : value;
