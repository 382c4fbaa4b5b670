/**
 * @module PMTiles packs (v3), read with the `pmtiles` library over verified ranged reads of an
 * asset in the content-addressed store: header, directories and tiles each read only the groups
 * they cover, every group checked against the object's outboard tree before pmtiles sees a byte
 * (shared/store/verified-read), so mounting a pack never reads the whole archive and a corrupted
 * group fails only the reads that cover it (IntegrityError). A pack is mounted once per isolate
 * and content address: magic, version and section bounds are checked (an expected address in the
 * config must equal the asset's, which every read is verified against). Header and directories
 * are cached as resolved values for the isolate; the pack's pointer is re-read from the asset
 * index at most every `EDGE_PACK_RECHECK_MS` (and at once after a publish in this isolate). A
 * pack the store would read whole anyway (≤ `INLINE_READ_BYTES`) that fits a quarter of the tile
 * cache is read once, verified against its address, and kept there, so its tiles are slices with
 * no store call. Only plain data is shared between requests: workerd forbids one request from
 * using another's I/O (a store stub, a pending read), so every request reads through its own source.
 */
import type { Header, PMTiles, RangeResponse, ResolvedValueCache, Source } from "pmtiles";
import { configOf } from "../context";
import { IntegrityError, MissingObjectError } from "../domain-errors";
import type { ObjectStore } from "../store/object-store";
import { objectStoreFor, type StoreContext } from "../store";
import { INLINE_READ_BYTES, readVerified, readVerifiedRange, type CorrContext, type VerifiedReadOptions } from "../store/verified-read";
import { assetIndexFor, type AssetEntry } from "./asset-index";
import { holdTileData, tileCacheFor } from "./tile-cache";

export interface PackSpec {
  name: string;
  path: string;
  expectedHex: string | null;
}

/** Parsed EDGE_PACKS, per configuration (configurations are parsed once per environment). */
const specsByConfig = new WeakMap<object, readonly PackSpec[]>();

export function packSpecs(rc: StoreContext): readonly PackSpec[] {
  const config = configOf(rc);
  let specs = specsByConfig.get(config);
  if (!specs) {
    specs = config.EDGE_PACKS.map((item) => {
      const [name, rest] = [item.slice(0, item.indexOf("=")), item.slice(item.indexOf("=") + 1)];
      const [path, hex] = rest.split("@");
      return { name, path: path!, expectedHex: hex ?? null };
    });
    specsByConfig.set(config, specs);
  }
  return specs;
}

/**
 * A pmtiles Source over verified ranged reads of one stored object: each read fetches only the
 * groups it covers and checks them against the object's outboard tree (IntegrityError when one
 * does not match), so no byte of a tile, directory or header reaches pmtiles unverified.
 */
class VerifiedStoreSource implements Source {
  constructor(
    private readonly rc: CorrContext,
    private readonly store: ObjectStore,
    private readonly entry: AssetEntry,
    private readonly options: VerifiedReadOptions,
  ) {}
  getKey(): string {
    return `b3:${this.entry.b3}`;
  }
  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    const end = Math.min(offset + length, this.entry.size); // the header read asks for 16 KiB whatever the size
    if (end <= offset) return { data: new ArrayBuffer(0) };
    const bytes = await readVerifiedRange(this.rc, this.store, this.entry.b3, { size: this.entry.size, contentType: this.entry.type }, offset, end, this.options);
    return { data: bytes.slice().buffer as ArrayBuffer };
  }
}

/** A pmtiles Source over a pack's verified bytes, held in the isolate's tile cache. */
class HeldSource implements Source {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly hex: string,
  ) {}
  getKey(): string {
    return `b3:${this.hex}`;
  }
  async getBytes(offset: number, length: number): Promise<RangeResponse> {
    const start = this.bytes.byteOffset + offset;
    return { data: this.bytes.buffer.slice(start, start + Math.min(length, this.bytes.byteLength - offset)) as ArrayBuffer };
  }
}

export interface MountedPack {
  spec: PackSpec;
  entry: AssetEntry;
  header: Header;
  /** A reader for this request (its own source over the shared directory cache), made on first use. */
  archive(): Promise<PMTiles>;
  /** Tile z/x/y as stored (still in the archive's tile compression), or null where the archive has none. */
  storedTile(z: number, x: number, y: number): Promise<Uint8Array | null>;
}

type CheckedPack = Omit<MountedPack, "archive" | "storedTile">;

/**
 * The verified bytes of a small pack held in the tile cache, read whole (and hashed) once. Only
 * packs the store itself reads whole on a verified read (`INLINE_READ_BYTES`) that also fit a
 * quarter of the cache: a larger pack is never read whole, its reads cover only their groups.
 */
async function heldBytes(rc: StoreContext, entry: AssetEntry): Promise<Uint8Array | null> {
  const cache = tileCacheFor(rc);
  const key = `pack\u0000${entry.b3}`;
  const held = cache.get(key);
  if (held?.kind === "pack") return held.bytes;
  if (entry.size > Math.min(cache.capBytes / 4, INLINE_READ_BYTES)) return null;
  const { bytes } = await readVerified(rc, objectStoreFor(rc), entry.b3);
  holdTileData(rc, key, { kind: "pack", bytes }, bytes.byteLength);
  return bytes;
}

export class PackError extends Error {}

/**
 * Packs that passed their checks (plain data only): one per pack name, for the content address
 * it was checked at, so re-publishing a pack replaces its entry instead of adding one per version.
 */
const checked = new Map<string, { key: string; pack: CheckedPack }>();

/**
 * pmtiles (and fflate under it), imported on the first tile request rather than at startup: they
 * build their tables when evaluated, a few ms of every isolate's startup. With it, the directory
 * cache shared by the isolate's readers.
 */
let library: Promise<{ PMTiles: typeof PMTiles; directories: ResolvedValueCache }> | undefined;
const loadPmtiles = () => (library ??= import("pmtiles").then((m) => ({ PMTiles: m.PMTiles, directories: new m.ResolvedValueCache(256) })));

/**
 * pmtiles' readers decompress tile data with the decompressor they are given (directories go
 * through the cache's own): tiles are served as stored, labelled with their Content-Encoding, so
 * their reader is given none. Decoding them would also cost a DecompressionStream per cold tile
 * and make every cached tile several times larger.
 */
const asStored = async (data: ArrayBuffer) => data;

async function readerFor(rc: StoreContext, entry: AssetEntry, tiles = false): Promise<PMTiles> {
  const { PMTiles, directories } = await loadPmtiles();
  const held = await heldBytes(rc, entry);
  const { VERIFY_GROUP_BYTES: groupBytes, STREAM_CHUNK_BYTES: chunkBytes } = configOf(rc);
  const source = held ? new HeldSource(held, entry.b3) : new VerifiedStoreSource(rc, objectStoreFor(rc), entry, { groupBytes, chunkBytes });
  return tiles ? new PMTiles(source, directories, asStored) : new PMTiles(source, directories);
}

async function mount(rc: StoreContext, spec: PackSpec, entry: AssetEntry | null): Promise<CheckedPack> {
  if (!entry) throw new PackError(`pack ${spec.name}: no asset ${spec.path}`);
  if (spec.expectedHex && entry.b3 !== spec.expectedHex) throw new PackError(`pack ${spec.name}: ${spec.path} is b3:${entry.b3}, expected b3:${spec.expectedHex}`);
  // no whole read for an expected address: every read is verified against entry.b3, checked above
  const corrupt = () => new PackError(`pack ${spec.name}: stored bytes do not hash to b3:${entry.b3}`);
  let header: Header;
  try {
    header = await (await readerFor(rc, entry)).getHeader(); // checks the magic number and the spec version
  } catch (error) {
    if (error instanceof IntegrityError) throw corrupt();
    if (error instanceof MissingObjectError) throw new PackError(`pack ${spec.name}: stored object b3:${entry.b3} is gone`);
    throw new PackError(`pack ${spec.name}: not a PMTiles v3 archive (${(error as Error)?.message ?? error})`);
  }
  const within = (offset: number, length = 0) => offset >= 0 && length >= 0 && offset + length <= entry.size;
  if (header.specVersion !== 3) throw new PackError(`pack ${spec.name}: PMTiles version ${header.specVersion}, need 3`);
  if (!within(header.rootDirectoryOffset, header.rootDirectoryLength) || !within(header.jsonMetadataOffset, header.jsonMetadataLength) || !within(header.tileDataOffset, header.tileDataLength ?? 0)) {
    throw new PackError(`pack ${spec.name}: header sections fall outside the ${entry.size}-byte archive`);
  }
  return { spec, entry, header };
}

/** Asset pointers of packs, by path, with when they were read (plain data). */
const pointers = new Map<string, { entry: AssetEntry | null; readAt: number }>();

/** A publish moved `path`: this isolate re-reads its pointer on the next tile request. */
export function forgetPackPointer(path: string): void {
  pointers.delete(path);
}

async function pointerOf(rc: StoreContext, path: string): Promise<AssetEntry | null> {
  const known = pointers.get(path);
  if (known && Date.now() - known.readAt < configOf(rc).EDGE_PACK_RECHECK_MS) return known.entry;
  const entry = await assetIndexFor(rc).get(path);
  pointers.set(path, { entry, readAt: Date.now() });
  return entry;
}

/** The pack, checked on first use per content address; throws PackError when it is bad. */
export async function packFor(rc: StoreContext, spec: PackSpec): Promise<MountedPack> {
  const entry = await pointerOf(rc, spec.path);
  const key = `${spec.name}\u0000${entry?.b3 ?? "missing"}\u0000${spec.expectedHex ?? ""}`;
  let pack = checked.get(spec.name)?.key === key ? checked.get(spec.name)!.pack : undefined;
  if (!pack) {
    pack = await mount(rc, spec, entry);
    checked.set(spec.name, { key, pack });
  }
  return new RequestPack(rc, pack);
}

/** A checked pack as one request reads it (its readers use that request's I/O). A class: no closures made per request. */
class RequestPack implements MountedPack {
  readonly spec: PackSpec;
  readonly entry: AssetEntry;
  readonly header: Header;
  constructor(
    private readonly rc: StoreContext,
    checkedPack: CheckedPack,
  ) {
    this.spec = checkedPack.spec;
    this.entry = checkedPack.entry;
    this.header = checkedPack.header;
  }
  archive(): Promise<PMTiles> {
    return readerFor(this.rc, this.entry);
  }
  async storedTile(z: number, x: number, y: number): Promise<Uint8Array | null> {
    const found = await (await readerFor(this.rc, this.entry, true)).getZxy(z, x, y);
    return found ? new Uint8Array(found.data) : null;
  }
}
