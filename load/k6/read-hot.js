// k6 scenario "read-hot" (definition: load/scenarios.json). k6 run -e BASE_URL=... load/k6/read-hot.js
import { iterationFor, optionsFor, seedHotObjects } from "./lib.js";

export const options = optionsFor("read-hot");
export const setup = seedHotObjects;
export default iterationFor("read-hot");
