"""What `sam validate` and `sam deploy` do with template.yaml, without the SAM CLI.

The SAM CLI cannot be installed everywhere (it comes from PyPI), but the code it
runs to turn the template into CloudFormation is the SAM translator
(`samtranslator`, installed with cfn-lint). This script runs that translator on
the template once for each environment in samconfig.toml, with that
environment's `parameter_overrides` applied as `sam deploy --config-env ENV`
applies them, and once more for every extra case given with --case (for
example Slack and e-mail turned on). It exits 1 naming each case that fails.

    python3 infra/sam_validate.py [--template template.yaml] [--config samconfig.toml]
                                  [--case 'name:Key=value Key2=value']...

Like `sam validate`, it replaces local CodeUri values with an S3 location and
gives the translator the pseudo parameters of a region and an account.
"""
import argparse
import copy
import logging
import shlex
import sys
import tomllib

import boto3

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser import parser
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

PSEUDO = {
    "AWS::Region": "ap-northeast-2",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "popbill-webhook-validate",
    "AWS::StackId": "arn:aws:cloudformation:ap-northeast-2:123456789012:stack/popbill-webhook-validate/1",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}


def overrides(text):
    """Parses `Key="value" Key2="value"`, samconfig.toml's parameter_overrides form."""
    out = {}
    for item in shlex.split(text or ""):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"parameter override {item!r} is not Key=value")
        out[key] = value
    return out


def environments(config_path):
    """Yields (name, overrides) for each samconfig.toml environment with deploy parameters."""
    with open(config_path, "rb") as f:
        config = tomllib.load(f)
    for env, commands in config.items():
        if not isinstance(commands, dict) or "deploy" not in commands:
            continue
        params = commands["deploy"].get("parameters", {})
        yield env, overrides(params.get("parameter_overrides", ""))


def with_s3_code(template):
    """sam validate and sam package put S3 locations where CodeUri is a local path."""
    t = copy.deepcopy(template)
    for logical_id, res in (t.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.setdefault("Properties", {})
        code = props.get("CodeUri", (t.get("Globals", {}).get("Function", {}) or {}).get("CodeUri"))
        if code is None or isinstance(code, str):
            props["CodeUri"] = f"s3://validate-bucket/{logical_id}.zip"
    return t


def translate(template, params):
    """Returns the CloudFormation the translator makes, or raises its error."""
    # sam validate takes the region from its --region or the AWS configuration.
    ArnGenerator.BOTO_SESSION_REGION_NAME = PSEUDO["AWS::Region"]
    values = dict(PSEUDO)
    values.update(params)
    # sam validate gives the translator a boto3 session for the region; no call is made.
    session = boto3.session.Session(region_name=PSEUDO["AWS::Region"])
    translator = Translator(None, parser.Parser(), boto_session=session)
    return translator.translate(with_s3_code(template), parameter_values=values, get_managed_policy_map=lambda: {})


def deployed(out, template, params):
    """The resources CloudFormation creates: those whose Condition holds with these
    parameters (the translator keeps every resource and leaves conditions to CloudFormation)."""
    values = {name: str(p.get("Default", "")) for name, p in (template.get("Parameters") or {}).items()}
    values.update(params)
    conditions = out.get("Conditions") or {}
    memo = {}

    def value(v):
        if isinstance(v, dict) and "Ref" in v:
            return values.get(v["Ref"], PSEUDO.get(v["Ref"]))
        return v

    def holds(expr):
        if isinstance(expr, dict) and len(expr) == 1:
            (fn, args), = expr.items()
            if fn == "Fn::Equals":
                return str(value(args[0])) == str(value(args[1]))
            if fn == "Fn::Not":
                return not holds(args[0])
            if fn == "Fn::And":
                return all(holds(a) for a in args)
            if fn == "Fn::Or":
                return any(holds(a) for a in args)
            if fn == "Condition":
                return condition(args)
        raise ValueError(f"cannot evaluate the condition {expr!r}")

    def condition(name):
        if name not in memo:
            memo[name] = holds(conditions[name])
        return memo[name]

    return [r for r in (out.get("Resources") or {}).values()
            if not isinstance(r, dict) or "Condition" not in r or condition(r["Condition"])]


def describe(err):
    if isinstance(err, InvalidDocumentException):
        return "; ".join(str(cause) for cause in err.causes) or str(err)
    return f"{type(err).__name__}: {err}"


def main(argv):
    # The translator warns of its unpublished usage metrics; they are not ours to publish.
    logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default="template.yaml")
    ap.add_argument("--config", default="samconfig.toml")
    ap.add_argument("--case", action="append", default=[],
                    help="NAME:Key=value ... : translate once more with the [default] overrides and these on top")
    args = ap.parse_args(argv)

    with open(args.template) as f:
        template = yaml_parse(f.read())
    cases = list(environments(args.config))
    if not cases:
        print(f"{args.config} has no environment with deploy parameters", file=sys.stderr)
        return 1
    base = dict(cases[0][1])
    for spec in args.case:
        name, _, extra = spec.partition(":")
        params = dict(base)
        params.update(overrides(extra))
        cases.append((name, params))

    failed = 0
    for name, params in cases:
        try:
            out = translate(template, params)
        except Exception as err:  # every translator error is a failed validation
            failed += 1
            print(f"FAIL {name}: {describe(err)}")
            continue
        print(f"ok   {name}: {len(deployed(out, template, params))} CloudFormation resources")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
