#!/usr/bin/env python3
"""Translate template.yaml (AWS SAM) into the plain CloudFormation that
CloudFormation deploys, with aws-sam-translator (installed with cfn-lint).

Used by the deployed-roles test (functions/deployed_test.go): the roles it
creates in moto are the ones SAM would create. CodeUri is set to an S3 URI,
as `sam package` would; no AWS call is made (no managed-policy look-up: the
template uses inline statements only)."""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        return {}


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/code.zip"
    json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
