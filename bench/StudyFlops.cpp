// Counts FLOPs per backbone pass from the token count, per MODEL.md's layer shapes.
#include "bench/StudyFlops.h"

namespace ei::bench {

namespace {

struct PassShape {
    double tokens;   // sequence length in the blocks
    double patches;  // N
};

void addPass(StudyFlops& f, const ModelConfig& c, const PassShape& s, bool withMor, double extraTokensFrom)
{
    const auto& b = c.backbone;
    const double d = b.embedDim, hid = b.mlpHidden(), p = b.patchSize, L = b.depth;
    const double T = s.tokens;
    f.backbone += 2.0 * s.patches * d * 3.0 * p * p;  // patch conv as a GEMM
    // per block: qkv 3d^2, proj d^2, fc1 + fc2 2*d*hid per token; attention 2 T^2 d (QK^T and AV)
    double perBlock = 2.0 * T * (3.0 * d * d + d * d + 2.0 * d * hid) + 2.0 * 2.0 * T * T * d;
    // INT tokens join at insert_layer: blocks before it see fewer tokens
    const double before = c.insertLayer, Tb = T - extraTokensFrom;
    double beforeBlock = 2.0 * Tb * (3.0 * d * d + d * d + 2.0 * d * hid) + 2.0 * 2.0 * Tb * Tb * d;
    f.backbone += perBlock * (L - before) + beforeBlock * before;
    f.passes += 1;
    if (!withMor)
        return;
    double rankSum = c.mor.rankSum(), router = c.mor.routerOutputs();
    for (const auto& t : c.mor.targets) {
        double din = d, dout = d;
        if (t == "fc1")
            dout = hid;
        if (t == "fc2")
            din = hid;
        double perToken = 2.0 * (din * router + din * rankSum + rankSum * dout);
        f.mor += perToken * ((L - before) * T + before * Tb);
    }
}

}  // namespace

StudyFlops StudyFlops::forStudy(const ModelConfig& c, bool withMaps)
{
    StudyFlops f;
    const int M = c.numModalities();
    const double d = c.backbone.embedDim, C = c.numClasses();
    const int p = c.backbone.patchSize;
    for (int m = 0; m < M; ++m) {
        const auto& mod = c.modalities[m];
        const int gh = (mod.size[0] + p - 1) / p, gw = (mod.size[1] + p - 1) / p;
        const double N = double(gh) * gw, prefix = 1 + c.backbone.numRegisterTokens;
        const int S = mod.isVolume() ? mod.slices : 1;
        const double ints = c.fusion == "ei" ? M - 1 : 0;
        for (int s = 0; s < S; ++s) {
            if (c.fusion == "ei")
                addPass(f, c, {prefix + N, N}, true, 0);                   // auxiliary
            addPass(f, c, {prefix + N + ints, N}, true, ints);              // primary
            if (withMaps && c.fusion == "ei")
                addPass(f, c, {prefix + N, N}, true, 0);                   // primary, no INT
        }
        f.heads += 2.0 * d * C * (c.fusion == "ei" ? 2 : 1);
        if (c.fusion == "ei")
            f.heads += (M - 1) * 2.0 * (2.0 * d * c.adapterHidden);
    }
    if (c.fusion != "unimodal")
        f.heads += 2.0 * M * d * M;
    return f;
}

}  // namespace ei::bench
