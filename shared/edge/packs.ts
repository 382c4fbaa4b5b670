/**
 * @module PMTiles packs (v3), read with the `pmtiles` library over ranged reads of an asset in
 * the content-addressed store. A pack is mounted once per isolate and content address:
 * magic, version and section bounds are checked (and the whole archive re-hashed when the
 * config names an expected address). Header and directories are cached as resolved values for
 * the isolate, so a warm tile costs one range read. Only plain data is shared between requests:
 * workerd forbids one request from using another's I/O (a store stub, a pending read), so every
 * request reads through its own source.
 */
import type { Header, PMTiles, RangeResponse, ResolvedValueCache, Source } from "pmtiles";
import { blake3 } from "../blake3";
import { configOf, type RequestContext } from "../context";
import type { ObjectStore } from "../store/object-store";
import { objectStoreFor } from "../store";
import { assetIndexFor, type AssetEntry } from "./asset-index";

export interface PackSpec {
  name: string;
  path: string;
  expectedHex: string | null;
}

export function packSpecs(rc: RequestContext<any>): PackSpec[] {
  return configOf(rc).EDGE_PACKS.map((item) => {
    const [name, rest] = [item.slice(0, item.indexOf("=")), item.slice(item.indexOf("=") + 1)];
    const [path, hex] = rest.split("@");
    return { name, path: path!, expectedHex: hex ?? null };
  });
}

/** A pmtiles Source over ranged reads of one stored object. */
class StoreSource implements Source {
  constructor(
    private readonly store: ObjectStore,
    private readonly hex: string,
  ) {}
  getKey(): string {
    return `b3:${this.hex}`;
  }
  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    const bytes = await this.store.getRange(this.hex, offset, length);
    if (!bytes) throw new Error(`pack object b3:${this.hex} is gone`);
    return { data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
  }
}

export interface MountedPack {
  spec: PackSpec;
  entry: AssetEntry;
  header: Header;
  /** A reader for this request (its own source over the shared directory cache). */
  archive: PMTiles;
}

type CheckedPack = Omit<MountedPack, "archive">;

export class PackError extends Error {}

/** Packs that passed their checks, by name and content address (plain data only). */
const checked = new Map<string, CheckedPack>();

/**
 * pmtiles (and fflate under it), imported on the first tile request rather than at startup: they
 * build their tables when evaluated, a few ms of every isolate's startup. With it, the directory
 * cache shared by the isolate's readers.
 */
let library: Promise<{ PMTiles: typeof PMTiles; directories: ResolvedValueCache }> | undefined;
const loadPmtiles = () => (library ??= import("pmtiles").then((m) => ({ PMTiles: m.PMTiles, directories: new m.ResolvedValueCache(256) })));

async function readerFor(rc: RequestContext<any>, hex: string): Promise<PMTiles> {
  const { PMTiles, directories } = await loadPmtiles();
  return new PMTiles(new StoreSource(objectStoreFor(rc), hex), directories);
}

async function mount(rc: RequestContext<any>, spec: PackSpec, entry: AssetEntry | null): Promise<CheckedPack> {
  if (!entry) throw new PackError(`pack ${spec.name}: no asset ${spec.path}`);
  if (spec.expectedHex && entry.b3 !== spec.expectedHex) throw new PackError(`pack ${spec.name}: ${spec.path} is b3:${entry.b3}, expected b3:${spec.expectedHex}`);
  const store = objectStoreFor(rc);
  if (spec.expectedHex) {
    const whole = await store.get(entry.b3);
    if (!whole || blake3().hashHex(whole.bytes) !== spec.expectedHex) throw new PackError(`pack ${spec.name}: stored bytes do not hash to b3:${spec.expectedHex}`);
  }
  const reader = await readerFor(rc, entry.b3);
  let header: Header;
  try {
    header = await reader.getHeader(); // checks the magic number and the spec version
  } catch (error) {
    throw new PackError(`pack ${spec.name}: not a PMTiles v3 archive (${(error as Error)?.message ?? error})`);
  }
  const within = (offset: number, length = 0) => offset >= 0 && length >= 0 && offset + length <= entry.size;
  if (header.specVersion !== 3) throw new PackError(`pack ${spec.name}: PMTiles version ${header.specVersion}, need 3`);
  if (!within(header.rootDirectoryOffset, header.rootDirectoryLength) || !within(header.jsonMetadataOffset, header.jsonMetadataLength) || !within(header.tileDataOffset, header.tileDataLength ?? 0)) {
    throw new PackError(`pack ${spec.name}: header sections fall outside the ${entry.size}-byte archive`);
  }
  return { spec, entry, header };
}

/** The pack, checked on first use per content address; throws PackError when it is bad. */
export async function packFor(rc: RequestContext<any>, spec: PackSpec): Promise<MountedPack> {
  const entry = await assetIndexFor(rc).get(spec.path);
  const key = `${spec.name}\u0000${entry?.b3 ?? "missing"}\u0000${spec.expectedHex ?? ""}`;
  let pack = checked.get(key);
  if (!pack) {
    pack = await mount(rc, spec, entry);
    checked.set(key, pack);
  }
  return { ...pack, archive: await readerFor(rc, pack.entry.b3) };
}
