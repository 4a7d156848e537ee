// Regenerates auto-router.routes.schema.json from the zod schema: `npm run schema`.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { routesJsonSchemaText, SCHEMA_FILE_NAME } from "../src/config/json-schema.ts";

const target = fileURLToPath(new URL(`../${SCHEMA_FILE_NAME}`, import.meta.url));
writeFileSync(target, routesJsonSchemaText());
console.log(`wrote ${target}`);
