// pow-worker.js: finds a nonce such that SHA-256(challenge + nonce) starts
// with `bits` zero bits, off the page's main thread. SHA-256 is computed
// here (synchronously, ASCII input) because crypto.subtle is asynchronous
// and much slower per call for millions of tiny inputs.
'use strict';

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const W = new Uint32Array(64);

// SHA-256 of an ASCII string; returns the eight state words.
function sha256(text) {
  const len = text.length;
  const blocks = ((len + 8) >> 6) + 1;
  const msg = new Uint32Array(blocks * 16);
  for (let i = 0; i < len; i++) msg[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - (i & 3) * 8);
  msg[len >> 2] |= 0x80 << (24 - (len & 3) * 8);
  msg[blocks * 16 - 1] = len * 8;
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  for (let b = 0; b < blocks; b++) {
    for (let t = 0; t < 16; t++) W[t] = msg[b * 16 + t];
    for (let t = 16; t < 64; t++) {
      const x = W[t - 15], y = W[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
    }
    let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let t = 0; t < 64; t++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t] + W[t]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & bb) ^ (a & c) ^ (bb & c);
      const t2 = (S0 + maj) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  return h;
}

function leadingZeroBits(h) {
  let n = 0;
  for (let i = 0; i < 8; i++) {
    if (h[i] === 0) { n += 32; continue; }
    return n + Math.clz32(h[i]);
  }
  return n;
}

self.onmessage = (m) => {
  const { challenge, bits } = m.data;
  for (let i = 0; ; i++) {
    const nonce = i.toString(36);
    if (leadingZeroBits(sha256(challenge + nonce)) >= bits) {
      postMessage({ nonce });
      return;
    }
    if (i % 50000 === 0 && i > 0) postMessage({ tried: i });
  }
};

// For tests under Node: module.exports when there is no worker scope.
if (typeof module !== 'undefined') module.exports = { sha256, leadingZeroBits };
