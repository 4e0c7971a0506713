// A thoughtSignature is kept as the bytes of the base64 text the server sent (ImageData.thoughtSignature). Where it
// has to be a JSON string (the cache entry, a `.json` sidecar, the wire), it is that text again: latin1, one
// character per byte, so any bytes survive the round trip unchanged.

export function signatureText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function signatureBytes(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}
