"""Decodes a TensorBoard event file with classes protoc generated from TensorBoard's own .proto
files, and prints it as JSON, so a node test can check trainledger's event files against the
real schema rather than against our own decoder.

Usage: python3 decode_tfevents.py GENERATED_DIR EVENT_FILE

Each record's Event (and each hparams plugin payload) is parsed, then serialized again with
deterministic=True: "canonical" says whether that gives back our exact bytes (same fields, same
order, no unknown fields, proto3 defaults omitted). Images are described by their PNG header.
"""
import json
import math
import struct
import sys
import zlib

sys.path.insert(0, sys.argv[1])

from google.protobuf import json_format  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402


def records(data):
    at = 0
    while at < len(data):
        (length,) = struct.unpack_from("<Q", data, at)
        start = at + 12  # length, its masked CRC
        yield data[start:start + length]
        at = start + length + 4  # payload, its masked CRC


def png_header(encoded):
    """The PNG's IHDR fields, its chunk types, whether every chunk's CRC-32 holds, and its pixels
    inflated by Python's zlib (hex, filter bytes included); None if it is no PNG."""
    if encoded[:8] != b"\x89PNG\r\n\x1a\n" or encoded[12:16] != b"IHDR":
        return None
    width, height, depth, color_type = struct.unpack_from(">IIBB", encoded, 16)
    chunks, crcs_ok, idat, at = [], True, b"", 8
    while at < len(encoded):
        (length,) = struct.unpack_from(">I", encoded, at)
        kind = encoded[at + 4:at + 8]
        body = encoded[at + 8:at + 8 + length]
        (crc,) = struct.unpack_from(">I", encoded, at + 8 + length)
        crcs_ok = crcs_ok and zlib.crc32(kind + body) == crc
        chunks.append(kind.decode("ascii"))
        if kind == b"IDAT":
            idat += body
        at += 12 + length
    return {"width": width, "height": height, "depth": depth, "colorType": color_type, "chunks": chunks, "crcsOk": crcs_ok, "raw": zlib.decompress(idat).hex()}


def num(x):
    """A float as JSON: non-finite ones as the strings 'inf', '-inf', 'nan'."""
    return x if math.isfinite(x) else repr(x)


def value_json(v):
    out = {"tag": v.tag, "kind": v.WhichOneof("value")}
    if v.HasField("metadata"):
        out["plugin"] = v.metadata.plugin_data.plugin_name
        if v.metadata.plugin_data.plugin_name == "hparams":
            content = v.metadata.plugin_data.content
            data = plugin_data_pb2.HParamsPluginData()
            data.ParseFromString(content)
            out["hparamsCanonical"] = data.SerializeToString(deterministic=True) == content
            out["hparamsData"] = data.WhichOneof("data")
            out["hparams"] = json_format.MessageToDict(data.session_start_info)["hparams"]
            out["startTimeSecs"] = data.session_start_info.start_time_secs
            out["version"] = data.version
    if out["kind"] == "simple_value":
        out["simpleValue"] = num(v.simple_value)
    elif out["kind"] == "image":
        out["image"] = {"height": v.image.height, "width": v.image.width, "colorspace": v.image.colorspace, "png": png_header(v.image.encoded_image_string)}
    elif out["kind"] == "histo":
        h = v.histo
        out["histo"] = {"min": num(h.min), "max": num(h.max), "num": num(h.num), "sum": num(h.sum), "sumSquares": num(h.sum_squares), "bucketLimit": [num(x) for x in h.bucket_limit], "bucket": [num(x) for x in h.bucket]}
    elif out["kind"] == "tensor":
        out["tensor"] = {"dtype": v.tensor.dtype, "shape": [d.size for d in v.tensor.tensor_shape.dim]}
    return out


def main():
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    events = []
    for payload in records(data):
        e = event_pb2.Event()
        e.ParseFromString(payload)
        item = {"step": e.step, "wallTime": e.wall_time, "what": e.WhichOneof("what"), "canonical": e.SerializeToString(deterministic=True) == payload}
        if item["what"] == "summary":
            item["values"] = [value_json(v) for v in e.summary.value]
        elif item["what"] == "session_log":
            item["status"] = e.session_log.status
        elif item["what"] == "file_version":
            item["fileVersion"] = e.file_version
        events.append(item)
    print(json.dumps(events, allow_nan=False))


main()
