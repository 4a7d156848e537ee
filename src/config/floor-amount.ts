// A balance floor is an amount in the currency its balance is reported in: a number is USD (`5`), a text may name
// its currency (`"30 CNY"`, `"5 USD"`, `"$5"`). DeepSeek reports an account opened in China in CNY; a floor in USD
// cannot be compared with that without an exchange rate, so the floor is written in the balance's own currency.
import { z } from "zod";
import { formatUsd } from "../analytics/text-format.ts";
import { closestWord } from "./spelling.ts";

export interface FloorAmount {
  amount: number;
  /** An ISO 4217 code in capitals ("USD", "CNY"). */
  currency: string;
}

export const USD = "USD";

/** "$12.50" for dollars; any other currency in its own code, never with a "$": "30.00 CNY". */
export function formatMoney(amount: number, currency = USD): string {
  return currency === USD ? formatUsd(amount, "spend") : `${amount.toFixed(2)} ${currency}`;
}

/** An amount of 0 or more, in dollars when it starts with "$"; a number only in decimals ("0x10", "1e3" are not). */
const FLOOR_TEXT = /^(\$)?(\d+(?:\.\d*)?|\.\d+)(?:\s*([A-Za-z]{3}))?$/;

let known: Set<string> | undefined;
const currencyCodes = (): Set<string> => {
  known ??= new Set(
    (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("currency") ?? [USD],
  );
  return known;
};

/** What is wrong with a currency code, or undefined when Intl knows it. */
export function currencyProblem(code: string): string | undefined {
  if (currencyCodes().has(code.toUpperCase())) return undefined;
  // Swapped letters ("CYN") are the likelier slip than a changed one ("BYN" is as close in edits).
  const letters = (word: string) => [...word].sort().join("");
  const upper = code.toUpperCase();
  const near =
    [...currencyCodes()].find((known) => letters(known) === letters(upper)) ?? closestWord(upper, currencyCodes(), 1);
  return `"${code}" is not a currency code (ISO 4217, such as USD or CNY)${near ? `; did you mean "${near}"?` : ""}`;
}

export const FLOOR_EXPECTED = 'expected an amount of 0 or more in USD (5 or $2.50) or with its currency ("30 CNY")';

/**
 * `text` ("30 CNY", "5", "$2.50") as an amount and its currency, or what is wrong with it; `orElse` adds what else the
 * caller takes in its place (", off or clear").
 */
export function parseFloorAmount(text: string, orElse = ""): FloorAmount | { problem: string } {
  const match = FLOOR_TEXT.exec(text.trim());
  if (!match) {
    // A currency written as a word one letter off a code ("5 EURO", "30 YUANS" is not): the code meant.
    const word = /^\$?(?:\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]+)$/.exec(text.trim())?.[1];
    const near = word ? closestWord(word.toUpperCase(), currencyCodes(), 1) : undefined;
    if (near) return { problem: `"${text}" is not an amount: "${word}" is no currency code; did you mean "${near}"?` };
    return { problem: `"${text}" is not an amount: ${FLOOR_EXPECTED}${orElse}` };
  }
  const [, dollar, amount, code] = match;
  if (dollar && code && code.toUpperCase() !== USD)
    return { problem: `"${text}" is not an amount: "$" is for USD; write "${amount} ${code.toUpperCase()}"` };
  if (code) {
    const problem = currencyProblem(code);
    if (problem) return { problem };
  }
  return { amount: Number(amount), currency: code ? code.toUpperCase() : USD };
}

/** A floor as the routes file writes it (a number is USD), as an amount and its currency. */
export function floorOf(written: number | string): FloorAmount {
  if (typeof written === "number") return { amount: written, currency: USD };
  const parsed = parseFloorAmount(written);
  // The routes file's schema let only amounts through: this is never reached with a loaded config.
  if ("problem" in parsed) throw new Error(parsed.problem);
  return parsed;
}

/** The routes file's `balanceFloor`: USD as a number, or an amount with its currency as text. */
export const floorAmountSchema = () =>
  z.union([
    z.number().nonnegative(FLOOR_EXPECTED),
    z.string().superRefine((text, ctx) => {
      const parsed = parseFloorAmount(text);
      if ("problem" in parsed) ctx.addIssue({ code: "custom", message: parsed.problem });
    }),
  ]);
