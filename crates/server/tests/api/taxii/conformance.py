"""Drives a watchfire node's TAXII 2.1 server with the OASIS taxii2-client, then checks every
STIX object it served with stix2-validator. Arguments: base URL, user, password, output file.
Prints one JSON object with what it saw; any failed expectation raises."""

import json
import sys
import uuid

import requests

from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages

base, user, password, out_path = sys.argv[1:5]
N = 1200

server = Server(base + "/taxii2/", user=user, password=password)
assert server.title == "watchfire", server.title
root = server.default
assert root is not None and root.versions == ["application/taxii+json;version=2.1"], root.versions
collections = {collection.title: collection for collection in root.collections}
inbox = next(collection for collection in root.collections if collection.can_write)
everything = next(collection for collection in root.collections if collection.title == "Everything")
assert not everything.can_write

def indicator(index, modified="2026-01-01T00:00:00.000Z"):
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "watchfire-taxii-%d" % index)),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": "test indicator %d" % index,
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.18.%d.%d']" % (index // 250, index % 250),
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    }

# Adding objects, in envelopes of 400, each answered with a complete status.
objects = [indicator(index) for index in range(N)]
for start in range(0, N, 400):
    status = inbox.add_objects({"objects": objects[start:start + 400]}, wait_for_completion=True)
    assert status.status == "complete", status.status
    assert status.success_count == 400 and status.failure_count == 0, (status.success_count, status.failure_count)
# A bad object is a failure in the status, the good one beside it lands.
status = inbox.add_objects({"objects": [indicator(N), {"type": "indicator", "id": "indicator--nonsense"}]})
assert status.success_count == 1 and status.failure_count == 1, (status.success_count, status.failure_count)
# The status can be read again.
again = root.get_status(status.id)
assert again["id"] == status.id if isinstance(again, dict) else True

# Paging over more than 1000 objects.
seen = []
for envelope in as_pages(inbox.get_objects, per_request=250):
    seen.extend(envelope.get("objects", []))
ids = {obj["id"] for obj in seen}
assert len(ids) == N + 1, len(ids)
assert len(seen) == len(ids), "an object came twice"

# Incremental: only what was added after the last date_added seen.
last_added = max(record["date_added"] for page in as_pages(inbox.get_manifest, per_request=1000) for record in page.get("objects", []))
inbox.add_objects({"objects": [indicator(N + 1)]})
fresh = inbox.get_objects(added_after=last_added)
assert [obj["id"] for obj in fresh["objects"]] == [indicator(N + 1)["id"]], fresh
N += 1
# match[type], match[id]
by_type = inbox.get_objects(type="indicator", limit=5)
assert all(obj["type"] == "indicator" for obj in by_type["objects"])
one_id = objects[7]["id"]
by_id = inbox.get_objects(id=one_id)
assert [obj["id"] for obj in by_id["objects"]] == [one_id]

# A second version of one object: versions lists both, the object endpoint the latest.
newer = indicator(7, modified="2026-02-01T00:00:00.000Z")
newer["name"] = "test indicator 7, revised"
inbox.add_objects({"objects": [newer]})
versions = inbox.object_versions(one_id)
assert versions["versions"] == ["2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"], versions
latest = inbox.get_object(one_id)
assert [obj["modified"] for obj in latest["objects"]] == ["2026-02-01T00:00:00.000Z"], latest
all_versions = inbox.get_object(one_id, version="all")
assert len(all_versions["objects"]) == 2, all_versions

# The manifest.
manifest_total = 0
for page in as_pages(inbox.get_manifest, per_request=500):
    for record in page.get("objects", []):
        assert record["media_type"] == "application/stix+json;version=2.1"
        assert len(record["date_added"].split(".")[1]) == len("000000Z"), record["date_added"]
        manifest_total += 1
assert manifest_total == N + 1, manifest_total

# Deleting.
gone_id = objects[3]["id"]
inbox.delete_object(gone_id)
try:
    inbox.get_object(gone_id)
    raise AssertionError("a deleted object is still served")
except requests.exceptions.HTTPError as error:
    assert error.response.status_code == 404, error.response.status_code

# Everything the node serves passes stix2-validator.
served = []
for envelope in as_pages(everything.get_objects, per_request=1000):
    served.extend(envelope.get("objects", []))
options = ValidationOptions(version="2.1")
invalid = []
for obj in served:
    result = validate_instance(obj, options)
    if not result.is_valid:
        invalid.append({"id": obj.get("id"), "errors": [str(error) for error in result.errors]})
assert not invalid, json.dumps(invalid[:3])
with open(out_path, "w") as out:
    json.dump({"collections": sorted(collections), "paged": len(seen), "served": len(served)}, out)
print(json.dumps({"paged": len(seen), "served": len(served), "validated": len(served)}))
