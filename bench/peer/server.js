// The peer of bench/http_compare.py: Fastify + @fastify/multipart + sharp, the stack SnapOtter runs.
// POST /resize (multipart: file, settings={"width":..,"quality":..}) -> the resized JPEG.
// Same work as POST /api/v1/tools/resize: Lanczos3, JPEG at the given quality, no metadata.
// Also POST /batch (bench/batch_memory.py), below.
// Usage: node server.js <port>   (prints "ready" once listening)
"use strict";
const fastify = require("fastify")({ logger: false, bodyLimit: 256 * 1024 * 1024 });
const sharp = require("sharp");

// sharp's defaults, as SnapOtter runs it; SHARP_CONCURRENCY sets libvips threads per operation.
if (process.env.SHARP_CONCURRENCY) sharp.concurrency(Number(process.env.SHARP_CONCURRENCY));
fastify.register(require("@fastify/multipart"), { limits: { fileSize: 256 * 1024 * 1024 } });

fastify.post("/resize", async (request, reply) => {
  let input = null;
  let settings = { width: 400, quality: 80 };
  for await (const part of request.parts()) {
    if (part.type === "file") input = await part.toBuffer();
    else if (part.fieldname === "settings") settings = { ...settings, ...JSON.parse(part.value) };
  }
  if (!input) return reply.code(400).send({ error: "no file", code: "NO_FILE" });
  const output = await sharp(input)
    .resize({ width: settings.width, kernel: "lanczos3" })
    .jpeg({ quality: settings.quality })
    .toBuffer();
  return reply.type("image/jpeg").send(output);
});

// POST /batch (multipart: files..., settings) -> {"count": N, "bytes": total}: the upload
// buffered part by part (toBuffer, as SnapOtter does), then each file resized in turn.
fastify.post("/batch", async (request, reply) => {
  const inputs = [];
  let settings = { width: 400, quality: 80 };
  for await (const part of request.parts()) {
    if (part.type === "file") inputs.push(await part.toBuffer());
    else if (part.fieldname === "settings") settings = { ...settings, ...JSON.parse(part.value) };
  }
  if (!inputs.length) return reply.code(400).send({ error: "no files", code: "NO_FILE" });
  let bytes = 0;
  for (const input of inputs) {
    const output = await sharp(input)
      .resize({ width: settings.width, kernel: "lanczos3" })
      .jpeg({ quality: settings.quality })
      .toBuffer();
    bytes += output.length;
  }
  return { count: inputs.length, bytes };
});

fastify.get("/health", async () => ({ status: "ok" }));

fastify.listen({ host: "127.0.0.1", port: Number(process.argv[2] || 13500) }, (err) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log("ready");
});
