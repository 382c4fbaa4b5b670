export function writePmtiles(
  tiles: { z: number; x: number; y: number; data: Uint8Array }[],
  options: { tileType: number; tileCompression: number; metadata?: object },
): Uint8Array;
