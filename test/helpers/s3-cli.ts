// `s3` for golden scripts: inspect and seed the bucket taskrunner is pointed at (same env).
//   s3 ls [PREFIX]        keys, sorted, one per line
//   s3 cat KEY            an object's body
//   s3 put KEY [FILE]     writes FILE (or stdin) to KEY
//   s3 head KEY           content type and storage class
//   s3 rm KEY             deletes KEY
import { S3Client, ListObjectsV2Command, GetObjectCommand, PutObjectCommand, HeadObjectCommand, DeleteObjectCommand } from "@aws-sdk/client-s3";
import { readFileSync } from "node:fs";

const env = process.env;
const client = new S3Client({
  endpoint: env.TASKRUNNER_S3_ENDPOINT,
  region: "eu-central-1",
  forcePathStyle: true,
  credentials: { accessKeyId: env.TASKRUNNER_AWS_ACCESS_KEY ?? "", secretAccessKey: env.TASKRUNNER_AWS_SECRET_KEY ?? "" },
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});
const Bucket = env.TASKRUNNER_REMOTE_CACHE_BUCKET ?? "";
const [cmd, key = "", file] = process.argv.slice(2);

try {
  await run();
} catch (e) {
  console.error(`s3 ${cmd} ${key}: ${(e as Error).name}: ${(e as Error).message}`);
  process.exit(1);
}

async function run(): Promise<void> {
switch (cmd) {
  case "ls": {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await client.send(new ListObjectsV2Command({ Bucket, Prefix: key, ContinuationToken: token }));
      for (const o of out.Contents ?? []) keys.push(o.Key ?? "");
      token = out.NextContinuationToken;
    } while (token);
    for (const k of keys.sort()) console.log(k);
    break;
  }
  case "cat": {
    const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
    process.stdout.write(await out.Body!.transformToByteArray());
    break;
  }
  case "put": {
    const body = file ? readFileSync(file) : readFileSync(0);
    await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body }));
    break;
  }
  case "head": {
    const out = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
    console.log(`content-type: ${out.ContentType}`);
    console.log(`storage-class: ${out.StorageClass ?? "STANDARD"}`);
    break;
  }
  case "rm":
    await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    break;
  default:
    console.error("usage: s3 ls|cat|put|head|rm KEY");
    process.exit(2);
}
}
