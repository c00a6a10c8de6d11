// Synthetic two-modality studies for tests, the bundled demo and the fusion benchmark
// (`eiview-cli make-synthetic`). Each study has a fundus-like colour photo (CFP: a
// red-orange disc with an optic disc, vessels and lesions) and an OCT-like B-scan
// (grey layered bands with speckle and a pathology). The lesions come in two kinds per
// modality (CFP: yellow drusen or dark-red haemorrhages; OCT: bright pigment-epithelium
// bumps or a dark fluid pocket), each kind in half of the studies independently. The
// label is "lesion" when the two modalities agree (drusen with bumps, haemorrhage with
// fluid) and "normal" otherwise. So each modality alone says nothing about the label
// (P = 1/2 whatever it shows), and no weighted sum of per-modality logits can solve
// it (it is an XOR of the two kinds); a model whose CFP pass is told what the OCT shows
// (early intervention) can. Kinds are rotation- and flip-invariant, so the official
// augmentations keep the task intact. Everything is drawn from one seed.
//
// kind "knee": three MRNet-style knee MRI views per study (SAG, COR, AX; uint8 .npy
// volumes [S, H, W]). SAG and COR each show one of two findings (a linear meniscal
// tear or a rounded bone-marrow oedema) on 3-4 consecutive slices; the label is
// "lesion" when the two views show the same kind, "normal" otherwise (the same XOR).
// AX shows a finding of its own drawn independently of the label: a distractor view.
#pragma once

#include <string>
#include <vector>

namespace ei {

struct SyntheticOptions {
    std::string kind = "cfp-oct";  // or "knee"
    int studies = 200;
    unsigned seed = 1;
    int size = 112;            // square images (knee: slices), pixels
    int slices = 16;           // knee: slices per volume
    double trainFraction = 0.6;
    double valFraction = 0.2;  // the rest is test
};

struct SyntheticSummary {
    std::string manifestPath;  // DIR/manifest.csv
    int studies = 0;
    int train = 0, val = 0, test = 0;
    int positives = 0;
    std::vector<std::string> modalities;  // manifest columns: CFP, OCT or SAG, COR, AX
};

// Writes DIR/manifest.csv (id,split,label,CFP,OCT; paths relative to DIR) and
// DIR/img/<id>_cfp.png, DIR/img/<id>_oct.png, and DIR/findings.csv (id, split,
// CFP_finding drusen|haemorrhage, OCT_finding bumps|fluid, CFP, OCT): the ground truth
// per modality (knee: SAG,COR,AX columns, img/<id>_sag.npy ..., findings tear|oedema), for tests and for pretraining a demo backbone. Creates DIR; refuses (BadInputError) to
// write into a DIR that already holds a manifest.csv, so nothing is overwritten.
// Every file is written atomically. Splits are stratified: each holds both labels.
SyntheticSummary writeSyntheticDataset(const std::string& dir, const SyntheticOptions& options);

}  // namespace ei
