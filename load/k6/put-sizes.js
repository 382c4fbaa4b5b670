// k6 scenario "put-sizes" (definition: load/scenarios.json). k6 run -e BASE_URL=... load/k6/put-sizes.js
import { iterationFor, optionsFor, seedHotObjects } from "./lib.js";

export const options = optionsFor("put-sizes");
export const setup = seedHotObjects;
export default iterationFor("put-sizes");
