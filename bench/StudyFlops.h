// Analytic count of the matrix-product work of one EI study (MODEL.md sections 1-4): the
// numerator of the benchmark's "achieved / GEMM peak" ratio. A multiply-add counts 2 FLOPs.
#pragma once

#include "models/ei/ModelConfig.h"

namespace ei::bench {

struct StudyFlops {
    double backbone = 0;  // patch embedding, qkv, attention (QK^T, AV), proj, MLP
    double mor = 0;       // routers and the rank products of every adapted layer
    double heads = 0;     // adapters, heads, gate
    int passes = 0;       // backbone passes per study
    double total() const { return backbone + mor + heads; }

    // One study through the EI model: M auxiliary passes, M primary passes with M - 1
    // INT tokens, and (withMaps) M primary passes without INT for the cls_noint maps;
    // images of the modalities' configured sizes (volumes: one pass per slice).
    static StudyFlops forStudy(const ModelConfig& config, bool withMaps);
};

}  // namespace ei::bench
