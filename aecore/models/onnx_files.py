"""The bytes of an ONNX graph and of the weights it keeps in files beside it, read only from inside
its folder, and a graph that refers to no file at all.

A graph is read from a regular file in its folder (a link is followed only to a file in that same
folder), within MAX_GRAPH_BYTES, and its wire format is counted before protobuf parses it: 16 MB
of empty messages would take protobuf 2.5 GB and seconds to build. Weights kept in a file beside
the graph ("external data": torch.onnx.export writes encoder.onnx.data by default) are read in by
aecore, not onnxruntime: only from a plain file name in the graph's folder, only the bytes the
tensor's shape needs, within the same budget. Every tensor anywhere in the model (initializers,
sparse initializers' values and indices, Constant values, attributes, subgraphs, functions) is
found by walking the message itself, and a reference that remains is refused: onnxruntime, given a
graph as bytes, would look for such a file in the server's working directory.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError, Message

from ..checkpoint import CheckpointError

MAX_GRAPH_BYTES = 64 * 2**20  # one graph with the weights it keeps beside it
MAX_MESSAGES = 100_000        # protobuf messages in one file: an exported MNIST autoencoder has ~50
MAX_FIELDS = 500_000          # fields of any kind: counting them to this takes about half a second
MAX_DEPTH = 16                # nesting of messages: a graph's deepest is ~8 (a dimension of a value's shape)
EXTERNAL = onnx.TensorProto.EXTERNAL
ITEM_BYTES = {onnx.TensorProto.FLOAT: 4, onnx.TensorProto.FLOAT16: 2, onnx.TensorProto.BFLOAT16: 2,
              onnx.TensorProto.DOUBLE: 8, onnx.TensorProto.INT8: 1, onnx.TensorProto.UINT8: 1,
              onnx.TensorProto.INT16: 2, onnx.TensorProto.UINT16: 2, onnx.TensorProto.INT32: 4,
              onnx.TensorProto.UINT32: 4, onnx.TensorProto.INT64: 8, onnx.TensorProto.UINT64: 8,
              onnx.TensorProto.BOOL: 1}  # the types whose values may be kept in a file
SMALL = "the explorer is for small autoencoders of images up to 3 x 128 x 128 pixels"
KEEP_INSIDE = "keep the weights inside the graph: torch.onnx.export(..., external_data=False)"


def over_budget(file: Path, size: int) -> CheckpointError:
    return CheckpointError(f"{file}: {size / 2**20:.0f} MB with its weights, over the {MAX_GRAPH_BYTES // 2**20} "
                           f"MB budget for one graph; {SMALL}")


def open_inside(folder: Path, name: str, file: Path) -> int:
    """A read-only descriptor of the regular file `name` in `folder`; CheckpointError naming `file`
    (the graph) when it is missing, a link out of the folder, or not a regular file."""
    path = folder / name
    if not os.path.lexists(path):
        raise FileNotFoundError(name)
    real = path.resolve()
    if real.parent != folder.resolve():
        raise CheckpointError(f"{file}: {name} is a link to a file outside the model's folder; put the file "
                              "itself in the folder")
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # no wait on a pipe, no link swapped in
    except FileNotFoundError:
        raise
    except OSError as e:
        raise CheckpointError(f"{file}: cannot read {name} ({e.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CheckpointError(f"{file}: {name} is not a regular file")
    return fd


def read_model(file: Path) -> onnx.ModelProto:
    """The graph in `file`, parsed; CheckpointError naming it when it is missing, a link out of its
    folder, over the budget, or not protobuf."""
    try:
        fd = open_inside(file.parent, file.name, file)
    except FileNotFoundError:
        raise CheckpointError(f"{file}: missing; an ONNX model folder holds encoder.onnx and decoder.onnx") from None
    with os.fdopen(fd, "rb") as f:
        if (size := os.fstat(f.fileno()).st_size) > MAX_GRAPH_BYTES:
            raise over_budget(file, size)
        data = f.read(MAX_GRAPH_BYTES + 1)
    problem = count_messages(data, onnx.ModelProto.DESCRIPTOR)
    if problem:
        raise CheckpointError(f"{file}: {problem}; {SMALL}")
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise _not_whole(file, " ".join(str(e).split())[:200]) from None
    if not model.HasField("graph"):
        raise _not_whole(file, "no graph in it")
    return model


def _not_whole(file: Path, why: str) -> CheckpointError:
    return CheckpointError(f"{file}: not a whole ONNX model ({why}); export it again with torch.onnx.export or tf2onnx")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    if byte < 0x80:  # most keys and sizes: one byte
        return byte, pos + 1
    value, shift = byte & 0x7F, 7
    while True:
        pos += 1
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos + 1
        shift += 7
        if shift > 63:
            raise ValueError("varint")


def count_messages(data: bytes, descriptor) -> str | None:
    """What is over the limits in protobuf `data` of the message type `descriptor` (messages,
    fields, nesting), or None; None too for bytes that are not protobuf (the parser says why).
    It reads keys and sizes only, stops at the first limit, and holds one entry per message."""
    messages = fields = 0
    stack = [(0, len(data), descriptor, 0)]
    try:
        while stack:
            pos, end, desc, depth = stack.pop()
            by_number = desc.fields_by_number
            while pos < end:
                key, pos = _varint(data, pos)
                fields += 1
                wire = key & 7
                if wire == 2:
                    size, pos = _varint(data, pos)
                    field = by_number.get(key >> 3)
                    if field is not None and field.message_type is not None:
                        messages += 1
                        if depth >= MAX_DEPTH:
                            return f"messages nested more than {MAX_DEPTH} deep"
                        if messages > MAX_MESSAGES:
                            return f"over {MAX_MESSAGES:,} protobuf messages, the budget for one graph"
                        stack.append((pos, pos + size, field.message_type, depth + 1))
                    pos += size
                elif wire == 0:
                    pos = _varint(data, pos)[1]
                elif wire in (1, 5):
                    pos += 8 if wire == 1 else 4
                else:
                    return None
                if fields > MAX_FIELDS:
                    return f"over {MAX_FIELDS:,} protobuf fields, the budget for one graph"
    except (IndexError, ValueError):
        return None
    return None


def tensors(message: Message):
    """Every TensorProto inside `message`, at any depth (found by walking its fields)."""
    stack = [message]
    while stack:
        m = stack.pop()
        if isinstance(m, onnx.TensorProto):
            yield m
            continue
        for field, value in m.ListFields():
            if field.type == field.TYPE_MESSAGE:
                stack.extend(value if field.is_repeated else [value])


def is_external(t: onnx.TensorProto) -> bool:
    return t.data_location == EXTERNAL or len(t.external_data) > 0


def inline_weights(model: onnx.ModelProto, file: Path, budget: int) -> None:
    """Read every tensor kept in a file beside the graph into the graph, from `budget` bytes at
    most; afterwards the model refers to no file."""
    external = [t for t in tensors(model) if is_external(t)]
    wanted = [(t, *_where(t, file)) for t in external]
    if (total := sum(n for _, _, _, n in wanted)) > budget:
        raise over_budget(file, MAX_GRAPH_BYTES - budget + total)
    fds: dict[str, int] = {}
    try:
        for tensor, place, offset, n in wanted:
            if place not in fds:
                fds[place] = _open_weights(file, place)
            data = os.pread(fds[place], n, offset)
            if len(data) != n:
                raise CheckpointError(f"{file}: {place} holds {os.fstat(fds[place]).st_size:,} bytes, too few for "
                                      f"the tensor {tensor.name!r} ({n:,} bytes from byte {offset:,})")
            tensor.raw_data = data
            tensor.ClearField("external_data")
            tensor.data_location = onnx.TensorProto.DEFAULT
    finally:
        for fd in fds.values():
            os.close(fd)
    if any(is_external(t) for t in tensors(model)):  # none can be left; kept as the rule's guard
        raise CheckpointError(f"{file}: refers to a file onnxruntime would look for; {KEEP_INSIDE}")


def _where(t: onnx.TensorProto, file: Path) -> tuple[str, int, int]:
    """(file name, offset, bytes) of a tensor kept beside the graph, checked."""
    entries = {e.key: e.value for e in t.external_data}
    place = entries.get("location", "")
    if not place or Path(place).name != place or place.startswith(".") or "\\" in place or "\0" in place:
        raise CheckpointError(f"{file}: keeps the tensor {t.name!r} in a file {place[:100]!r}, not a plain file "
                              f"name in its folder; put the file beside {file.name}, or {KEEP_INSIDE}")
    if t.data_type not in ITEM_BYTES:
        kind = onnx.TensorProto.DataType.Name(t.data_type) if t.data_type in onnx.TensorProto.DataType.values() \
            else str(t.data_type)
        raise CheckpointError(f"{file}: keeps the {kind} tensor {t.name!r} in a file; {KEEP_INSIDE}")
    n = ITEM_BYTES[t.data_type]
    for d in t.dims:
        n *= d
    try:
        offset, length = int(entries.get("offset", 0)), int(entries.get("length", n))
    except ValueError:
        raise CheckpointError(f"{file}: the tensor {t.name!r} has an offset or length that is not a number") from None
    if offset < 0 or length != n or min(t.dims, default=0) < 0:
        raise CheckpointError(f"{file}: the tensor {t.name!r} of shape {list(t.dims)} says it is {length:,} bytes at "
                              f"byte {offset:,} of {place}; its shape needs {n:,}; {KEEP_INSIDE}")
    return place, offset, n


def _open_weights(file: Path, place: str) -> int:
    try:
        return open_inside(file.parent, place, file)
    except FileNotFoundError:
        raise CheckpointError(f"{file}: keeps its weights in a separate file {place!r}, not found beside it; put "
                              f"{place} beside {file.name} (upload it too), or {KEEP_INSIDE}") from None
