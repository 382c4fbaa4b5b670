/** The npm `macaroon` package (js-macaroon), used by the tests as an independent implementation. */
declare module "macaroon" {
  export interface Macaroon {
    readonly identifier: Uint8Array;
    readonly signature: Uint8Array;
    readonly caveats: { identifier: Uint8Array; vid?: Uint8Array }[];
    addFirstPartyCaveat(condition: string | Uint8Array): void;
    verify(rootKey: Uint8Array, check: (condition: string) => string | null, discharges?: Macaroon[]): void;
    exportBinary(): Uint8Array;
  }
  export function newMacaroon(params: { identifier: string | Uint8Array; location?: string; rootKey: Uint8Array; version?: 1 | 2 }): Macaroon;
  export function importMacaroon(data: string | Uint8Array): Macaroon;
}
