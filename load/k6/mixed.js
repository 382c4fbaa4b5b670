// k6 scenario "mixed" (definition: load/scenarios.json). k6 run -e BASE_URL=... load/k6/mixed.js
import { drain, iterationFor, optionsFor, seedHotObjects } from "./lib.js";

export const options = optionsFor("mixed");
export const setup = seedHotObjects;
export default iterationFor("mixed");
export { drain };
