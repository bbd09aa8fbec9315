#!/usr/bin/env node
// This file implements the independent CycloneDX validator the tests compare
// pedigree against: @cyclonedx/cyclonedx-library's Validation.JsonStrictValidator
// (ajv 8 with ajv-formats), one instance per spec version, reused for every file.
// Usage: NODE_PATH=<node_modules> node cdx_validate.js FILE... (or file names on stdin).
// Prints one JSON line per file: {"file","valid","spec_version","errors"} or {"file","error"}.
'use strict';
const fs = require('fs');
const CDX = require('@cyclonedx/cyclonedx-library');

const validators = new Map();

function validatorFor(version) {
  if (!validators.has(version)) validators.set(version, new CDX.Validation.JsonStrictValidator(version));
  return validators.get(version);
}

async function validateFile(file) {
  let text;
  let version;
  try {
    text = fs.readFileSync(file, 'utf8');
    version = JSON.parse(text).specVersion;
  } catch (e) {
    return { file, error: String(e.message || e) };
  }
  if (!Object.values(CDX.Spec.Version).includes(version)) return { file, error: `unsupported specVersion ${version}` };
  try {
    const errors = await validatorFor(version).validate(text);
    return { file, valid: errors === null, spec_version: version, errors: errors || [] };
  } catch (e) {
    return { file, error: String(e.message || e) };
  }
}

async function main() {
  let files = process.argv.slice(2);
  if (files.length === 0) files = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.length > 0);
  for (const file of files) process.stdout.write(JSON.stringify(await validateFile(file)) + '\n');
}

main().catch((e) => {
  process.stderr.write(`cdx_validate: ${e.stack || e}\n`);
  process.exit(2);
});
