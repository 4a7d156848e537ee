// The URLs the routes file points a balance or usage API at (`balanceEndpoint`, `uvi.endpoints`): each is fetched with
// the provider's own credentials, so it must be an http(s) URL, and credentials written into it (`user:pass@`) would
// be sent beside them and shown wherever the URL is (status, health, the debug report): refused at load.
import { z } from "zod";
import { shown } from "./zod-issue-text.ts";

export const endpointUrlSchema = () =>
  z.string().superRefine((text, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
      ctx.addIssue({ code: "custom", message: `expected an http:// or https:// URL, got ${shown(text)}` });
    else if (url.username || url.password)
      ctx.addIssue({
        code: "custom",
        message:
          "a URL with a user name or password in it: the request carries the provider's own credentials, and the URL is shown in status and logs; remove the part before @",
      });
  });
