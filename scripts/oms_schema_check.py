#!/usr/bin/env python3
# This file implements a developer check (not part of the build or of ctest):
# validates OMS bundles and their in-toto statements against the OMS v1.0 JSON
# schemas in ../shared/reference/oms-spec-v1.0/ with the `jsonschema` package
# (4.18 or later, for `referencing`). Usage: oms_schema_check.py BUNDLE...
import base64
import json
import os
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, '..', '..', 'shared', 'reference', 'oms-spec-v1.0')


def main(paths):
    schemas = {n: json.load(open(os.path.join(SCHEMAS, n + '.schema.json')))
               for n in ('bundle', 'envelope', 'statement', 'predicate')}
    registry = Registry().with_resources(
        [(s['$id'], Resource.from_contents(s)) for s in schemas.values()])
    ok = True
    for path in paths:
        bundle = json.load(open(path))
        statement = json.loads(base64.b64decode(bundle['dsseEnvelope']['payload']))
        for name, doc in (('bundle', bundle), ('statement', statement)):
            errors = [e.message for e in
                      Draft202012Validator(schemas[name], registry=registry).iter_errors(doc)]
            print(f'{path}: {name}: ' + ('valid' if not errors else '; '.join(errors)))
            ok = ok and not errors
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
