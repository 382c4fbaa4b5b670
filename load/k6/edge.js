// k6 scenario "edge" (definition: load/scenarios.json). k6 run -e BASE_URL=... load/k6/edge.js
import { iterationFor, optionsFor, seedHotObjects } from "./lib.js";

export const options = optionsFor("edge");
export const setup = seedHotObjects;
export default iterationFor("edge");
