"""The topic registry, its generated Strimzi/AsyncAPI files and the protobuf schemas agree."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from google.protobuf import descriptor_pb2, descriptor_pool

from kernel.envelope import Envelope
from kernel.topics import PUBLIC_TOPICS, TopicSpec, all_topics
from tools import render_topics
from tools.render_topics import ASYNCAPI_PATH, PROTO_DIR, TOPICS_DIR, ProtoCatalogue

ROOT = Path(__file__).resolve().parents[2]
GEN_PYTHON = ROOT / "gen" / "python"
TOPICS = all_topics()

# <domain>.<entity>[.<event>].v<major>[.dlq]: lowercase, dots only, no environment.
NAME_RULE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*){1,2}\.v[1-9][0-9]*(\.dlq)?$")
ENVIRONMENT_WORDS = {"dev", "development", "test", "staging", "stage", "prod", "production", "local", "qa"}


def topic_id(spec: TopicSpec) -> str:
    return spec.name


@pytest.fixture(scope="module")
def protos() -> ProtoCatalogue:
    return ProtoCatalogue.compile(ROOT / PROTO_DIR)


@pytest.fixture(scope="module")
def asyncapi() -> dict:
    return yaml.safe_load((ROOT / ASYNCAPI_PATH).read_text(encoding="utf-8"))


def import_generated_messages() -> None:
    """Import every generated *_pb2 module so its messages are in the default pool."""
    for path in sorted(GEN_PYTHON.rglob("*_pb2.py")):
        module = ".".join(path.relative_to(GEN_PYTHON).with_suffix("").parts)
        importlib.import_module(module)


# --------------------------------------------------------------------------- generated files


def test_generated_files_are_up_to_date() -> None:
    problems = render_topics.check()
    assert not problems, "\n".join(problems) + "\n\nrun `python -m tools.render_topics all` and commit the result"


def test_check_detects_drift_and_stale_files(tmp_path: Path, protos: ProtoCatalogue) -> None:
    shutil.copytree(ROOT / PROTO_DIR, tmp_path / PROTO_DIR)
    strimzi, catalogue = render_topics.render_strimzi(), render_topics.render_asyncapi(protos=protos)
    render_topics.write(strimzi, tmp_path, prune=TOPICS_DIR)
    render_topics.write(catalogue, tmp_path)
    assert render_topics.main(["check", "--root", str(tmp_path)]) == 0

    topic_file = tmp_path / TOPICS_DIR / "actions.opportunity.v1.yaml"
    topic_file.write_text(topic_file.read_text().replace("partitions: 6", "partitions: 12"))
    stale = tmp_path / TOPICS_DIR / "actions.retired.v1.yaml"
    stale.write_text(next(iter(strimzi.values())))  # carries the generated-file marker
    hand_written = tmp_path / TOPICS_DIR / "extra.yaml"
    hand_written.write_text("kind: KafkaTopic\n")
    (tmp_path / ASYNCAPI_PATH).unlink()

    problems = render_topics.differences(strimzi, tmp_path, owned=TOPICS_DIR) + render_topics.differences(
        catalogue, tmp_path
    )
    text = "\n".join(problems)
    assert "out of date: deploy/k8s/base/topics/actions.opportunity.v1.yaml" in text
    assert "-  partitions: 12" in text and "+  partitions: 6" in text
    assert "actions.retired.v1.yaml" in text and "extra.yaml" in text
    assert f"missing: {ASYNCAPI_PATH}" in text
    assert render_topics.main(["check", "--root", str(tmp_path)]) == 1

    # Rendering again repairs it, deletes the stale generated file, keeps the hand-written one.
    render_topics.main(["all", "--root", str(tmp_path)])
    assert not stale.exists() and hand_written.exists()
    hand_written.unlink()
    assert render_topics.main(["check", "--root", str(tmp_path)]) == 0


def test_rendering_is_deterministic(protos: ProtoCatalogue) -> None:
    shuffled = tuple(reversed(TOPICS))
    assert render_topics.render_strimzi(shuffled) == render_topics.render_strimzi()
    assert render_topics.render_asyncapi(shuffled, protos) == render_topics.render_asyncapi(protos=protos)


# --------------------------------------------------------------------------- registry rules


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_topic_name_follows_the_rule(spec: TopicSpec) -> None:
    assert NAME_RULE.match(spec.name), f"{spec.name} breaks <domain>.<entity>[.<event>].v<N>[.dlq]"
    assert not ENVIRONMENT_WORDS & set(spec.name.split(".")), f"{spec.name} names an environment"
    assert spec.name.split(".")[0] == spec.owner or spec.name.endswith(".dlq"), (
        f"{spec.name}: the domain segment should be the owning service {spec.owner!r}"
    )


def test_naming_rule_rejects_bad_names() -> None:
    for bad in (
        "Actions.opportunity.v1",
        "actions_opportunity.v1",
        "actions.opportunity",
        "actions.v1",
        "actions.opportunity.v0",
        "actions.opportunity.v1.retry",
        "a.b.c.d.v1",
    ):
        assert not NAME_RULE.match(bad), bad
    with pytest.raises(ValueError):
        TopicSpec(name="actions.Opportunity.v1", owner="actions", key="k", schema="s", summary="x")


def test_topic_names_are_unique_and_dead_letters_complete() -> None:
    names = [t.name for t in TOPICS]
    assert len(names) == len(set(names))
    for spec in PUBLIC_TOPICS:
        assert not spec.name.endswith(".dlq")
        assert (spec.name + ".dlq" in names) is spec.consumed, spec.name
    for name in names:
        if name.endswith(".dlq"):
            assert name.removesuffix(".dlq") in names


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_partitions_and_retention_are_sane(spec: TopicSpec) -> None:
    assert spec.partitions > 0
    assert spec.retention_ms == -1 or spec.retention_ms > 0
    assert spec.key and spec.owner and spec.summary


@pytest.mark.parametrize("spec", PUBLIC_TOPICS, ids=topic_id)
def test_public_schema_exists_in_generated_code(spec: TopicSpec) -> None:
    import_generated_messages()
    message = descriptor_pool.Default().FindMessageTypeByName(spec.schema)
    assert message.full_name == spec.schema
    major = spec.name.rsplit(".", 1)[-1]
    assert f".{major}." in f".{message.file.package}.", (
        f"{spec.name} is {major} but its schema lives in package {message.file.package}"
    )


def test_unknown_schema_is_not_found() -> None:
    import_generated_messages()
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("dealpulse.actions.v1.NoSuchEvent")


# --------------------------------------------------------------------------- Strimzi


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_strimzi_topic_matches_registry(spec: TopicSpec) -> None:
    doc = yaml.safe_load((ROOT / TOPICS_DIR / f"{spec.name}.yaml").read_text())
    assert doc["metadata"]["name"] == doc["spec"]["topicName"] == spec.name
    assert doc["metadata"]["labels"]["strimzi.io/cluster"] == "dealpulse"
    assert doc["spec"]["partitions"] == spec.partitions
    assert doc["spec"]["replicas"] == 3
    config = doc["spec"]["config"]
    for key, value in spec.broker_config().items():
        assert config[key] == value, key
    assert config["min.insync.replicas"] == "2"


# --------------------------------------------------------------------------- AsyncAPI


def test_asyncapi_has_one_channel_per_topic(asyncapi: dict) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"
    addresses = sorted(c["address"] for c in asyncapi["channels"].values())
    assert addresses == sorted(t.name for t in TOPICS)


@pytest.mark.parametrize("spec", TOPICS, ids=topic_id)
def test_asyncapi_channel_documents_the_topic(spec: TopicSpec, asyncapi: dict, protos: ProtoCatalogue) -> None:
    channel = asyncapi["channels"][spec.name]
    binding = channel["bindings"]["kafka"]
    assert binding["partitions"] == spec.partitions
    assert binding["replicas"] == 3
    config = binding["topicConfiguration"]
    assert config["retention.ms"] == spec.retention_ms
    assert config["cleanup.policy"] == ["compact" if spec.compacted else "delete"]
    (message,) = channel["messages"].values()
    assert spec.key in message["bindings"]["kafka"]["key"]["description"]
    if spec.name.endswith(".dlq"):
        assert message["headers"] == {"$ref": "#/components/schemas/DeadLetterHeaders"}
    else:
        assert message["contentType"] == "application/protobuf"
        assert message["payload"]["schemaFormat"] == "application/vnd.google.protobuf;version=3"
        assert message["x-proto-message"] == spec.schema
        assert message["x-proto-file"] == protos.proto_path(spec.schema)
        assert (ROOT / message["x-proto-file"]).is_file()
        constants = message["headers"]["allOf"][1]["properties"]
        assert constants["ce_type"]["const"] == spec.event_type
        assert constants["ce_dataschema"]["const"] == spec.schema
    receives = [op for op in asyncapi["operations"].values() if op["channel"] == {"$ref": f"#/channels/{spec.name}"}]
    assert [op["action"] for op in receives] == ["receive"]


def _resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), f"only local references expected: {ref}"
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_asyncapi_references_resolve(asyncapi: dict) -> None:
    refs = list(_refs(asyncapi))
    assert refs
    for ref in refs:
        _resolve(asyncapi, ref)
    with pytest.raises(KeyError):
        _resolve(asyncapi, "#/channels/actions.nothing.v1")


@pytest.mark.parametrize("spec", PUBLIC_TOPICS, ids=topic_id)
def test_asyncapi_headers_match_the_envelope(spec: TopicSpec, asyncapi: dict) -> None:
    """What kernel.envelope actually writes is what the catalogue documents."""
    envelope = Envelope.for_topic(
        spec,
        source="/dealpulse/test",
        subject="opp-1",
        tenant_id="acme",
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    headers = dict(envelope.to_headers())
    documented = asyncapi["components"]["schemas"]["CloudEventsHeaders"]
    undocumented = set(headers) - set(documented["properties"])
    assert not undocumented, f"headers written but not documented: {undocumented}"
    never_written = set(documented["required"]) - set(headers)
    assert not never_written, f"documented as required but never written: {never_written}"
    assert headers["ce_type"].decode() == spec.event_type
    assert headers["ce_dataschema"].decode() == spec.schema
    for name, schema in documented["properties"].items():
        if "const" in schema and name in headers:
            assert headers[name].decode() == schema["const"], name


@pytest.mark.parametrize("spec", PUBLIC_TOPICS, ids=topic_id)
def test_inline_proto_is_faithful_to_proto_dir(
    spec: TopicSpec, asyncapi: dict, protos: ProtoCatalogue, tmp_path: Path
) -> None:
    """The proto text inlined in the catalogue compiles to exactly the declared messages."""
    from importlib import resources

    from grpc_tools import protoc

    (message,) = asyncapi["channels"][spec.name]["messages"].values()
    source = message["payload"]["schema"]
    assert "// @RootNode\nmessage " + spec.schema.rsplit(".", 1)[-1] + " {" in source
    (tmp_path / "inline.proto").write_text(source)
    out = tmp_path / "inline.pb"
    rc = protoc.main(
        [
            "protoc",
            f"-I{tmp_path}",
            f"-I{resources.files('grpc_tools') / '_proto'}",
            f"--descriptor_set_out={out}",
            "inline.proto",
        ]
    )
    assert rc == 0, f"inline proto for {spec.name} does not compile"
    inline = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    assert inline.message_type, "no messages"
    for compiled in inline.message_type:
        original = protos.decls[f"{inline.package}.{compiled.name}"].proto
        assert compiled == original, f"{compiled.name} differs from its declaration in proto/"
    for compiled in inline.enum_type:
        assert compiled == protos.decls[f"{inline.package}.{compiled.name}"].proto, compiled.name


def test_asyncapi_passes_the_official_parser() -> None:
    node_modules = ROOT / "node_modules"
    if not (node_modules / "@asyncapi" / "protobuf-schema-parser").is_dir() or shutil.which("node") is None:
        pytest.fail("the official AsyncAPI parser is not installed: run `make setup` (npm ci)")
    result = subprocess.run(
        ["node", str(Path(__file__).parent / "validate_asyncapi.cjs"), str(ROOT / ASYNCAPI_PATH)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(node_modules)},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


SYNTHETIC_PROTO = """syntax = "proto3";

package dealpulse.synthetic.v1;

import "google/protobuf/duration.proto";
import "google/protobuf/timestamp.proto";
import "dealpulse/other/v1/other.proto";

// The root.
message Root {
  string id = 1; // trailing words
  repeated Item items = 2;
  map<string, Item> by_key = 3;
  map<string, int64> counters = 4;
  optional int32 maybe = 5;
  Root.Inner inner = 6;
  Level level = 7;
  google.protobuf.Timestamp at = 8;
  google.protobuf.Duration took = 9;
  // Exactly one of these.
  oneof choice {
    string text = 10;
    Item item = 11 [deprecated = true];
  }
  bytes blob = 12;
  reserved 20, 22 to 25, 100 to max;
  reserved "gone";

  message Inner {
    enum Kind {
      KIND_UNSPECIFIED = 0;
      KIND_A = 1;
    }
    Kind kind = 1;
    repeated sint64 values = 2;
  }
}

message Item {
  fixed32 a = 1;
  double b = 2;
}

enum Level {
  option allow_alias = true;
  LEVEL_UNSPECIFIED = 0;
  LEVEL_LOW = 1;
  LEVEL_MINOR = 1;
  reserved 5 to 7;
}

message Unrelated {
  string x = 1;
}

message UsesOtherPackage {
  dealpulse.other.v1.Other other = 1;
}
"""


def test_proto_renderer_handles_the_proto3_feature_set(tmp_path: Path) -> None:
    from importlib import resources

    from grpc_tools import protoc

    root = tmp_path / "proto"
    (root / "dealpulse" / "synthetic" / "v1").mkdir(parents=True)
    (root / "dealpulse" / "other" / "v1").mkdir(parents=True)
    (root / "dealpulse" / "synthetic" / "v1" / "x.proto").write_text(SYNTHETIC_PROTO)
    (root / "dealpulse" / "other" / "v1" / "other.proto").write_text(
        'syntax = "proto3";\npackage dealpulse.other.v1;\nmessage Other { string y = 1; }\n'
    )
    catalogue = ProtoCatalogue.compile(root)
    source = catalogue.source_for("dealpulse.synthetic.v1.Root")
    assert "message Unrelated" not in source and "other.proto" not in source
    assert "// The root.\n// @RootNode\nmessage Root {" in source
    assert "string id = 1; // trailing words" in source
    out_dir = tmp_path / "inline"
    out_dir.mkdir()
    (out_dir / "inline.proto").write_text(source)
    rc = protoc.main(
        [
            "protoc",
            f"-I{out_dir}",
            f"-I{resources.files('grpc_tools') / '_proto'}",
            f"--descriptor_set_out={out_dir / 'set.pb'}",
            "inline.proto",
        ]
    )
    assert rc == 0, source
    inline = descriptor_pb2.FileDescriptorSet.FromString((out_dir / "set.pb").read_bytes()).file[0]
    assert sorted(m.name for m in inline.message_type) == ["Item", "Root"]
    assert [e.name for e in inline.enum_type] == ["Level"]
    for compiled in inline.message_type:
        assert compiled == catalogue.decls[f"dealpulse.synthetic.v1.{compiled.name}"].proto, source
    assert inline.enum_type[0] == catalogue.decls["dealpulse.synthetic.v1.Level"].proto
    assert sorted(inline.dependency) == ["google/protobuf/duration.proto", "google/protobuf/timestamp.proto"]

    with pytest.raises(ValueError, match="another package"):
        catalogue.source_for("dealpulse.synthetic.v1.UsesOtherPackage")
    with pytest.raises(KeyError):
        catalogue.source_for("dealpulse.synthetic.v1.Missing")
