// A tool's input schema as the three client APIs carry it (Chat's function.parameters, Messages' input_schema,
// Responses' parameters) is a JSON Schema object. Anything else is refused with the path that holds it, not sent on as
// it is (an OpenAI target refuses it after the commit to that target) or turned into a tool without arguments (an
// Anthropic target).
import { z } from "zod";

export const toolSchemaObject = () =>
  z.record(z.string(), z.unknown(), { error: 'expected a JSON Schema object ({"type": "object", ...})' });
