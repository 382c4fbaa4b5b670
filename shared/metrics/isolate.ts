/**
 * @module The isolate's id: a random label that tells one isolate's series from another's.
 * `/metrics` reports the memory of the one isolate that answered the scrape, and a deployed
 * worker runs many isolates (per location, recycled at will), so every series carries
 * `isolate="<id>"` (docs/OBSERVABILITY.md). Created lazily: workerd refuses random values at
 * global scope.
 */
let id: string | undefined;

export function isolateId(): string {
  if (id === undefined) {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return id;
}
