"""The attack suite's cases: what each hostile graph is, how it is written into a sound model
folder (tests/onnx_factories.py's linear_pair), which file the refusal names and what it says.
Used by tests/test_onnx_hostile.py and by `python -m benchmarks.onnx_sandbox --attacks`."""
from __future__ import annotations

import os

import numpy as np
from onnx_attacks import (SECRET, claims, deep_protobuf, file_reading_decoder, if_with_external, length,
                          linked_weights, loop_encoder, many_nodes, nested_ifs, one_op_encoder, opsets, pair_then,
                          protobuf_bomb, relu_with_graph, with_function, with_training_info, write)
from onnx_bombs import (broadcast_bomb_encoder, code_size_encoder, constant_code, constant_of_shape_encoder,
                        data_dependent_encoder, huge_conv_transpose, infinite_decoder, integer_code,
                        resize_bomb_encoder, slow_encoder)
from onnx_factories import linear_encoder

from aecore.checkpoint import DECODER, ENCODER

# what the attack is -> (how to make the folder so, the file the error names, what the error says)
LOAD_CASES = {
    "sparse initializer read from the working directory": (
        pair_then(DECODER, lambda: file_reading_decoder(SECRET, "sparse values")), DECODER,
        f"'{SECRET}', not found beside it"),
    "sparse indices read from the working directory": (
        pair_then(DECODER, lambda: file_reading_decoder(SECRET, "sparse indices")), DECODER,
        f"'{SECRET}', not found beside it"),
    "Constant sparse_value read from the working directory": (
        pair_then(DECODER, lambda: file_reading_decoder(SECRET, "sparse constant")), DECODER,
        f"'{SECRET}', not found beside it"),
    "Constant value read from the working directory": (
        pair_then(DECODER, lambda: file_reading_decoder(SECRET, "constant")), DECODER,
        f"'{SECRET}', not found beside it"),
    "initializer at ../": (
        pair_then(DECODER, lambda: file_reading_decoder(f"../{SECRET}", "initializer")), DECODER,
        f"'../{SECRET}', not a plain file name in its folder"),
    "sparse initializer at ../": (
        pair_then(DECODER, lambda: file_reading_decoder(f"../{SECRET}", "sparse values")), DECODER,
        "not a plain file name in its folder"),
    "initializer at /etc/passwd": (
        pair_then(DECODER, lambda: file_reading_decoder("/etc/passwd", "initializer")), DECODER,
        "'/etc/passwd', not a plain file name in its folder"),
    "Constant sparse_value at /etc/passwd": (
        pair_then(DECODER, lambda: file_reading_decoder("/etc/passwd", "sparse constant")), DECODER,
        "'/etc/passwd', not a plain file name in its folder"),
    "a hidden name (..)": (
        pair_then(DECODER, lambda: file_reading_decoder("..", "initializer")), DECODER, "not a plain file name"),
    "a .data file linked to /etc/passwd": (
        lambda f: linked_weights(f, "/etc/passwd"), ENCODER, "encoder.onnx.data is a link to a file outside"),
    "a .data file linked to ../secret.txt": (
        lambda f: linked_weights(f, f"../{SECRET}"), ENCODER, "encoder.onnx.data is a link to a file outside"),
    "a graph linked to /etc/passwd": (
        lambda f: (os.unlink(f / ENCODER), os.symlink("/etc/passwd", f / ENCODER)), ENCODER,
        "encoder.onnx is a link to a file outside"),
    "a .data file that is a pipe": (
        lambda f: (linked_weights(f, "real.data"), os.unlink(f / "encoder.onnx.data"),
                   os.mkfifo(f / "encoder.onnx.data")),
        ENCODER, "encoder.onnx.data is not a regular file"),
    "external data past the end of its file": (
        lambda f: (write(f, DECODER, file_reading_decoder("w.bin", "initializer")), write(f, "w.bin", b"x" * 100)),
        DECODER, "w.bin holds 100 bytes, too few for the tensor 'W'"),
    "external data claiming a terabyte": (
        lambda f: (write(f, DECODER, claims(file_reading_decoder("w.bin", "initializer"), 10**12)),
                   write(f, "w.bin", b"x" * 784)), DECODER, "MB with its weights, over the 64 MB budget"),
    "external data with a length that is not its shape's": (
        lambda f: (write(f, DECODER, length(file_reading_decoder("w.bin", "initializer"), 10)),
                   write(f, "w.bin", b"x" * 784)),
        DECODER, "says it is 10 bytes at byte 0 of w.bin; its shape needs 784"),
    "external data in an If's branch": (
        pair_then(ENCODER, lambda: if_with_external(f"../{SECRET}")), ENCODER, r"'If' \(control flow"),
    "Loop with INT64_MAX trips": (pair_then(ENCODER, loop_encoder), ENCODER, r"'Loop' \(control flow"),
    "Loop whose trip count comes from the pixels": (
        pair_then(ENCODER, lambda: loop_encoder(trip_from_pixels=True)), ENCODER, r"'Loop' \(control flow"),
    "Scan": (pair_then(ENCODER, lambda: one_op_encoder("Scan", num_scan_inputs=1)), ENCODER, r"'Scan' \(control flow"),
    "custom domain": (pair_then(ENCODER, lambda: one_op_encoder("Encode", "my.ops")), ENCODER,
                      "custom operator 'Encode' of domain 'my.ops'"),
    "ai.onnx.ml operator": (pair_then(ENCODER, lambda: one_op_encoder("Normalizer", "ai.onnx.ml", norm="MAX")), ENCODER,
                            "custom operator 'Normalizer' of domain 'ai.onnx.ml'"),
    "a random operator": (pair_then(ENCODER, lambda: one_op_encoder("RandomNormalLike")), ENCODER, "it is random"),
    "an operator no encoder needs": (pair_then(ENCODER, lambda: one_op_encoder("NonMaxSuppression")), ENCODER,
                                     "'NonMaxSuppression' \\(not an operator encoders and decoders use"),
    "a local function named like a standard operator": (
        pair_then(ENCODER, lambda: with_function(one_op_encoder("Relu"))), ENCODER, "defines local functions"),
    "a subgraph on an allowed operator": (pair_then(ENCODER, relu_with_graph), ENCODER, "holds a subgraph"),
    "opset 1": (pair_then(ENCODER, lambda: opsets(one_op_encoder("Relu"), [("", 1)])), ENCODER,
                "imports the ONNX opset 1;"),
    "opset 99": (pair_then(ENCODER, lambda: opsets(one_op_encoder("Relu"), [("", 99)])), ENCODER, "opset 99;"),
    "two default opsets": (pair_then(ENCODER, lambda: opsets(one_op_encoder("Relu"), [("", 17), ("ai.onnx", 9)])),
                           ENCODER, "opset 2 versions"),
    "ConstantOfShape of 40 GB at load": (pair_then(ENCODER, constant_of_shape_encoder), ENCODER,
                                         "'ConstantOfShape' \\(it makes a tensor of a size read from data"),
    "Expand": (pair_then(ENCODER, lambda: one_op_encoder("Expand")), ENCODER, "'Expand' \\(it makes a tensor"),
    "a 14 GB tensor from allowed operators": (pair_then(ENCODER, broadcast_bomb_encoder), ENCODER,
                                               "makes the tensor 'big' of 13,733 MB for one image, over the 64 MB"),
    "ConvTranspose asked for a huge output": (pair_then(DECODER, lambda: huge_conv_transpose()), DECODER,
                                              "MB for one image, over the 64 MB budget"),
    "a code size of 250,000": (pair_then(ENCODER, lambda: code_size_encoder(250_000)), ENCODER,
                               "codes of size 250,000, over the 1,024"),
    "a code size of 1,000,000 left open in the graph": (
        pair_then(ENCODER, lambda: code_size_encoder(1_000_000, declared=False)), ENCODER,
        "gives an output of shape \\(3, 1000000\\) for 3 inputs"),
    "protobuf of 8 million empty operators (16 MB)": (
        pair_then(ENCODER, lambda: protobuf_bomb(8_000_000)), ENCODER, "over 100,000 protobuf messages"),
    "If nested 30 deep": (pair_then(ENCODER, lambda: nested_ifs(30)), ENCODER, "messages nested more than 16 deep"),
    "subgraphs nested 10,000 deep": (pair_then(ENCODER, lambda: deep_protobuf(10_000)), ENCODER,
                                     "messages nested more than 16 deep"),
    "20,000 operators": (pair_then(ENCODER, lambda: many_nodes(20_000)), ENCODER,
                         "20,000 operators, over the budget of 5,000"),
    "a fixed batch of 100,000 images": (
        pair_then(ENCODER, lambda: linear_encoder(np.zeros((3, 784), np.float32), np.zeros(3, np.float32),
                                                  batch=100_000)),
        ENCODER, "made for a fixed batch of 100,000, over the 1,024"),
    "a graph over 64 MB": (pair_then(ENCODER, lambda: b"\x00" * (65 * 2**20)), ENCODER, "65 MB with its weights, over"),
    "an integer output": (pair_then(ENCODER, integer_code), ENCODER, "its output holds int64 values, not floats"),
    "NaN codes at load": (pair_then(ENCODER, lambda: constant_code(np.nan)), ENCODER, "gave NaN or infinite values"),
    "infinite images at load": (pair_then(DECODER, infinite_decoder), DECODER, "gave NaN or infinite values"),
    "training graphs": (pair_then(ENCODER, with_training_info), ENCODER, "defines training graphs"),
}
# graphs that pass the load check (plain images) and break a limit or change on real digits
RUN_CASES = {
    "Resize to gigabytes on real digits only": lambda f: write(f, ENCODER, resize_bomb_encoder()),
    "memory growing in steps on real digits only": lambda f: write(f, ENCODER, resize_bomb_encoder(300, hold=True)),
    "7 TFLOP on real digits only": lambda f: write(f, ENCODER, slow_encoder(on_digits=True)),
    "7 TFLOP at load": lambda f: write(f, ENCODER, slow_encoder()),
    "NaN on real digits only": lambda f: write(f, ENCODER, data_dependent_encoder("nan")),
    "one code fewer than digits": lambda f: write(f, ENCODER, data_dependent_encoder("batch")),
    "shorter codes on real digits": lambda f: write(f, ENCODER, data_dependent_encoder("size")),
}
