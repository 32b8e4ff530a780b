"""Prints a CloudFormation template (YAML, with the short forms !Ref, !Sub, !If, !GetAtt ...) as JSON, the short
forms written out as CloudFormation defines them ({"Ref": x}, {"Fn::Sub": x}, {"Fn::GetAtt": [resource, attribute]}).
For the tests of deploy/cloudformation (tests/SpotDevBox.Tests/Deploy), with Debian's PyYAML.
usage: python3 cfn-template-json.py TEMPLATE.yaml"""
import json
import sys

import yaml


class Loader(yaml.SafeLoader):
    pass


def construct(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {"Fn::" + suffix: value}


Loader.add_multi_constructor("!", construct)

with open(sys.argv[1], encoding="utf-8") as f:
    print(json.dumps(yaml.load(f, Loader=Loader)))
