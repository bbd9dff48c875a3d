/* help.c: the commands and their options, written once. The tables below
 * make `frost help`, `frost help CMD` (and `frost CMD --help`), the
 * suggestions for a misspelled command or option, and the list of options
 * that tests/cli/help.sh checks against docs/user-guide.md. The parser
 * (cli.c) reads the options themselves: an option added there must be
 * added here too, or the help and the suggestions miss it. */
#include <string.h>

#include "cmd.h"

#ifndef FR_GIT_COMMIT
#define FR_GIT_COMMIT "unknown"
#endif
#ifndef FR_KERNEL_FLAGS
#define FR_KERNEL_FLAGS "unknown flags"
#endif

/* One bit per command, in the order of cmds[] below. */
enum {
  DUMP = 1 << 0,
  RUN = 1 << 1,
  BENCH = 1 << 2,
  COMPILE = 1 << 3,
  COMPARE = 1 << 4,
  CONF = 1 << 5,
  TRAIN = 1 << 6,
  EVAL = 1 << 7,
  FEWSHOT = 1 << 8,
  CLUSTER = 1 << 9,
  ADAPT = 1 << 10,
  EXTRACT = 1 << 11,
  ALL = 0xffff,
  FEATURES = FEWSHOT | CLUSTER | ADAPT | EXTRACT, /* frozen features */
  MODEL = DUMP | RUN | BENCH | COMPILE | TRAIN, /* take the freeze options */
  TRAINS = TRAIN | COMPILE,                    /* compile: with --train */
};

typedef struct cmd_help {
  const char *name;
  const char *args;    /* after "frost NAME" in the usage line */
  const char *summary; /* one line, for frost help */
  const char *what;    /* the command's help, a few lines */
  const char *example; /* one or more command lines */
} cmd_help;

static const cmd_help cmds[] = {
    {"dump", "MODEL [options]", "print a model's IR: imported, optimized or the training graph",
     "Prints the model's IR, one line per node, with frozen and trainable marks\n"
     "and a summary of parameter and activation memory.",
     "frost dump models/alexa_v0.1.onnx\n"
     "frost dump --stage optimized --shape x=1x3x48x192 \\\n"
     "    models/ch_ppocr_mobile_v2.0_cls_infer.onnx"},
    {"run", "MODEL --input NAME=FILE... [options]",
     "run a model on input files and summarize its outputs",
     "Runs the model on .npy or .pb inputs and prints each output's shape and a\n"
     "summary of its values (the top classes of a classifier's scores);\n"
     "--output-dir writes the outputs as .npy files.",
     "frost run models/embedding_model.onnx --input input_1=in.npy --output-dir out/"},
    {"bench", "MODEL [options]", "compile once, time runs on random inputs",
     "Compiles the model once, warms up, times N runs on seeded random inputs\n"
     "and prints the compile time, the minimum and the median (last line\n"
     "median_ms=X).",
     "frost bench models/embedding_model.onnx --shape input_1=1x76x32x1 --iters 200"},
    {"compile", "MODEL [-o OUT] [options]",
     "a native artifact (executable, library, object, IR or assembly)",
     "Compiles the model into an artifact that needs neither LLVM nor frost.\n"
     "With --train the artifact also trains; it then takes the training,\n"
     "optimizer, data and audio options of frost train.",
     "frost compile models/embedding_model.onnx --shape input_1=1x76x32x1 -o emb\n"
     "frost compile models/embedding_model.onnx --train --head linear:2 \\\n"
     "    --batch 8 -o emb2"},
    {"compare", "GOT WANT [options]", "compare two tensors (.npy or .pb)",
     "Compares two tensors: floats within --rtol and --atol, others exactly.\n"
     "Exit status 0 when they match, 1 with the first mismatch otherwise.",
     "frost compare out/conv2d_19.npy \\\n"
     "    tests/oracle/ref/embedding_1/out/conv2d_19.npy --atol 1e-4"},
    {"conformance", "[DIR] [options]", "run the ONNX backend node tests",
     "Runs the ONNX backend tests of libonnx-testdata (default: the node tests)\n"
     "and prints pass, fail, unsupported or error for each, then a summary.",
     "frost conformance --filter conv -v"},
    {"train", "MODEL DATA [-o OUT.onnx] [options]",
     "train the unfrozen layers of a model on a data set",
     "Trains a new head and the layers the freeze options unfreeze on DATA (a\n"
     "folder of class folders or a CSV manifest) and writes OUT.onnx, the\n"
     "original model with the trained weights and the head.",
     "frost train models/embedding_model.onnx data/ --head linear:2 \\\n"
     "    --val-split 0.2 -o head.onnx"},
    {"eval", "MODEL DATA [options]",
     "a classifier's accuracy, recall and confusion on a data set",
     "Runs a classifier (its first output: scores per class, in the data set's\n"
     "class order) on a labelled data set and prints the accuracy, each\n"
     "class's recall and the confusion matrix.",
     "frost eval head.onnx data/ --json eval.json\n"
     "frost eval model.onnx data/ --label-map map.csv   # zero-shot"},
    {"fewshot", "MODEL (--support S --query Q | DATA --episodes E) [options]",
     "few-shot classification by prototypes of frozen features",
     "Embeds the samples with the frozen model up to --cut, makes one prototype\n"
     "per class (the mean embedding of its support samples) and classifies the\n"
     "queries by the nearest prototype; --episodes samples N-way K-shot episodes\n"
     "from DATA and reports the mean accuracy with its 95% interval; -o writes\n"
     "the prototype classifier as ONNX.",
     "frost fewshot models/embedding_model.onnx --support sup/ --query q/ -o p.onnx\n"
     "frost fewshot models/embedding_model.onnx clips/ --episodes 200 --shots 5 \\\n"
     "    --frontend models/melspectrogram.onnx --window 76 --hop 8"},
    {"cluster", "MODEL DATA --k K [options]", "k-means++ on frozen features",
     "Embeds the samples with the frozen model up to --cut and clusters them\n"
     "(k-means++); with class folders, reports purity, the adjusted Rand index\n"
     "and normalized mutual information; -o writes each sample's cluster (CSV).",
     "frost cluster models/ch_ppocr_mobile_v2.0_cls_infer.onnx digits/ --k 10 \\\n"
     "    --cut p2o.GlobalAveragePool.19 --resize 48x192 --channels 3"},
    {"adapt-bn", "MODEL TARGET_DATA -o OUT.onnx [options]",
     "re-estimate BatchNormalization statistics on target data (AdaBN)",
     "Runs the model in training mode over unlabelled target-domain data and\n"
     "writes the model with every BatchNormalization's running mean and\n"
     "variance replaced by the target data's (the mean of full batches').",
     "frost adapt-bn digits.onnx inverted/ --resize 48x192 --channels 3 \\\n"
     "    -o adapted.onnx"},
    {"extract", "MODEL DATA --cut VALUE -o DIR [options]",
     "features of a data set as shards, for train --features",
     "Runs the frozen model up to --cut over every sample of DATA and writes\n"
     "the features as shards, with the labels and a manifest, to DIR; frost\n"
     "train MODEL --features DIR trains a head on them. Under mpirun -np N,\n"
     "each of the N processes extracts and writes its block of the samples.",
     "frost extract models/embedding_model.onnx data/ --cut conv2d_19 -o feats/\n"
     "mpirun -np 4 frost extract models/embedding_model.onnx data/ \\\n"
     "    --cut conv2d_19 -o feats/"},
};
enum { N_CMDS = sizeof cmds / sizeof cmds[0] };

typedef struct opt_help {
  const char *name;  /* "--engine" */
  const char *alias; /* "-o", or NULL */
  const char *arg;   /* "E", or NULL for a flag */
  unsigned cmds;     /* the commands it belongs to */
  const char *group; /* a heading: options of a group print together */
  const char *help;
} opt_help;

/* Grouped: a group's options stand together, groups in this order. */
static const opt_help opts[] = {
    /* the commands' own */
    {"--input", NULL, "NAME=FILE", RUN, "options", "an input: a .npy or ONNX .pb file (each input once)"},
    {"--output-dir", NULL, "DIR", RUN, "options", "write each output to DIR/NAME.npy (all or nothing)"},
    {"--shape", NULL, "NAME=DIMS", MODEL, "options", "fix an input's shape, e.g. x=1x3x224x224"},
    {"--dot", NULL, NULL, DUMP, "options", "print the graph in Graphviz DOT"},
    {"--stage", NULL, "S", DUMP, "options", "imported (default), optimized or train"},
    {"--output", "-o", "OUT", TRAINS | FEWSHOT | CLUSTER | ADAPT | EXTRACT, "options",
     "the output: artifact, model, clusters or features"},
    {"--emit", NULL, "KIND", COMPILE, "options", "exe (default), shared, obj, llvm or asm"},
    {"--name", NULL, "C", COMPILE, "options", "the prefix of the C API (default: from OUT)"},
    {"--train", NULL, NULL, COMPILE, "options", "an artifact that trains (takes frost train's options)"},
    {"--clip-samples", NULL, "N", COMPILE, "options", "--train --frontend: the samples of a clip"},
    {"--iters", NULL, "N", BENCH, "options", "timed runs (default 100)"},
    {"--rtol", NULL, "R", COMPARE, "options", "relative tolerance (default 1e-3)"},
    {"--atol", NULL, "A", COMPARE, "options", "absolute tolerance (default 1e-5)"},
    {"--verbose", "-v", NULL, CONF, "options", "the reason for each test that does not pass"},
    {"--filter", NULL, "S", CONF, "options", "only the tests whose names contain S"},
    {"--only", NULL, "FILE", CONF, "options", "only the tests FILE lists"},
    {"--expect", NULL, "FILE", CONF, "options", "fail unless every test FILE lists passes"},
    {"--write-passing", NULL, "FILE", CONF, "options", "write the passing tests' names to FILE"},
    {"--expect-native", NULL, "FILE", CONF, "options", "jit: fail unless FILE's tests run as native code"},
    {"--write-native", NULL, "FILE", CONF, "options", "jit: write the tests passing as native code to FILE"},
    {"--timeout", NULL, "S", CONF, "options", "seconds per test (default 20)"},
    {"--json", NULL, "FILE", EVAL, "options", "write accuracy, recall and confusion as JSON"},
    {"--label-map", NULL, "FILE", EVAL, "options", "zero-shot: lines CLASS,OUTPUT map classes to outputs"},
    {"--task", NULL, "NAME", EVAL, "options", "the output NAME against the manifest's column NAME"},
    {"--support", NULL, "DIR", FEWSHOT, "options", "the labelled examples (class folders)"},
    {"--query", NULL, "DIR", FEWSHOT, "options", "the samples to classify"},
    {"--metric", NULL, "M", FEWSHOT, "options", "cosine (default) or euclidean"},
    {"--episodes", NULL, "E", FEWSHOT, "options", "sample E episodes from DATA"},
    {"--shots", NULL, "K", FEWSHOT, "options", "episodes: support samples per class (default 1)"},
    {"--queries", NULL, "Q", FEWSHOT, "options", "episodes: queries per class (default 5)"},
    {"--ways", NULL, "N", FEWSHOT, "options", "episodes: classes per episode (default all)"},
    {"--finetune", NULL, NULL, FEWSHOT, "options", "-o: then train the head from the prototypes"},
    {"--k", NULL, "K", CLUSTER, "options", "clusters"},
    {"--adapt", NULL, "DATA", TRAIN, "training", "AdaBN on DATA before training (see adapt-bn)"},
    {"--ssl", NULL, NULL, TRAIN, "training",
     "self-supervised training: InfoNCE, two views"},
    {"--temperature", NULL, "T", TRAIN, "training", "--ssl: the similarities' temperature (0.1)"},
    {"--noise", NULL, "S", TRAINS, "training", "augment: add Gaussian noise of deviation S"},
    /* engines */
    {"--engine", NULL, "E", RUN | BENCH | CONF | TRAIN | EVAL | FEATURES, "engine",
     "jit (default), interp, opt (interp after the passes)"},
    {"--no-specialize", NULL, NULL, RUN | BENCH | CONF | TRAIN | EVAL | FEATURES, "engine",
     "jit: nodes call frost's kernels (fast to compile)"},
    {"--specialize", NULL, NULL, RUN | BENCH | CONF | TRAIN | EVAL | FEATURES, "engine",
     "jit: kernels inlined and specialized (the default)"},
    {"--profile", NULL, NULL, RUN | BENCH | TRAIN, "engine",
     "jit: time every node; print those that took most"},
    {"--no-code-cache", NULL, NULL, RUN | BENCH | CONF | TRAIN | EVAL | FEATURES | COMPILE,
     "engine", "neither read nor write the code cache"},
    {"--target-cpu", NULL, "CPU", RUN | BENCH | COMPILE | TRAIN | EVAL | FEATURES, "engine",
     "native (default) or an LLVM CPU name, e.g. x86-64-v3"},
    {"--threads", NULL, "T", RUN | BENCH | CONF | TRAIN | EVAL | FEATURES, "engine",
     "threads (default: $FROST_THREADS, else its CPUs)"},
    /* the pass pipeline */
    {"--print-after", NULL, "PASS|all", DUMP | RUN | BENCH | COMPILE, "passes", "print the IR after a pass"},
    {"--print-before", NULL, "PASS|all", DUMP | RUN | BENCH | COMPILE, "passes", "print the IR before a pass"},
    {"--time-passes", NULL, NULL, DUMP | RUN | BENCH | COMPILE, "passes", "print pass times (and the JIT's, run and bench)"},
    /* training */
    {"--head", NULL, "SPEC", TRAINS | DUMP, "training",
     "a new head: linear:N, mlp:H1,...,N; NAME:SPEC a task"},
    {"--task-weight", NULL, "NAME:W", TRAIN, "training", "a task's share of the loss (default 1)"},
    {"--cut", NULL, "VALUE", TRAINS | DUMP | FEWSHOT | CLUSTER | EXTRACT, "training",
     "keep the graph up to VALUE (the head goes after it)"},
    {"--loss", NULL, "L", TRAINS | DUMP, "training", "ce (default), bce or mse"},
    {"--probabilities", NULL, NULL, TRAINS | DUMP, "training", "ce: the output is probabilities, not logits"},
    {"--label-smoothing", NULL, "E", TRAINS, "training", "ce: label smoothing"},
    {"--class-weights", NULL, "W,W,...", TRAINS, "training", "ce: a weight per class"},
    {"--bn-train", NULL, NULL, TRAINS | DUMP, "training", "BatchNormalization trains with batch statistics"},
    {"--batch", NULL, "N", TRAINS | DUMP | EVAL | FEATURES, "training", "samples per batch (default 32)"},
    {"--epochs", NULL, "N", TRAINS, "training", "epochs (default 10)"},
    {"--max-steps", NULL, "N", TRAINS, "training", "stop after N steps"},
    {"--seed", NULL, "N", TRAINS | FEWSHOT | CLUSTER, "training",
     "order, split, initial weights, episodes, k-means"},
    {"--no-shuffle", NULL, NULL, TRAINS, "training", "batches in data set order"},
    {"--val", NULL, "DIR", TRAIN, "training", "a validation data set"},
    {"--val-split", NULL, "F", TRAINS, "training", "validate on a stratified fraction F of DATA"},
    {"--patience", NULL, "N", TRAINS, "training", "stop after N epochs without improvement"},
    {"--no-cache", NULL, NULL, TRAINS, "training", "no feature cache (the same weights, slower)"},
    {"--features", NULL, "DIR", TRAIN, "training", "train on frost extract's features, not DATA"},
    {"--checkpoint-dir", NULL, "DIR", TRAIN, "training", "a checkpoint after every epoch"},
    {"--resume", NULL, NULL, TRAIN, "training", "continue from --checkpoint-dir"},
    {"--log-json", NULL, "FILE", TRAIN, "training", "one JSON object per epoch"},
    {"--plot", NULL, "FILE.svg", TRAIN, "training", "loss and accuracy curves"},
    {"--save-params", NULL, "DIR", TRAIN, "training", "each trained parameter as .npy"},
    /* the optimizer */
    {"--optimizer", NULL, "O", TRAINS | DUMP, "optimizer", "sgd, adam or adamw (default)"},
    {"--lr", NULL, "F", TRAINS, "optimizer", "learning rate (default 1e-3)"},
    {"--lr-backbone", NULL, "F", TRAINS, "optimizer", "learning rate of the model's own parameters"},
    {"--momentum", NULL, "F", TRAINS, "optimizer", "sgd: momentum"},
    {"--nesterov", NULL, NULL, TRAINS, "optimizer", "sgd: Nesterov momentum"},
    {"--weight-decay", NULL, "F", TRAINS, "optimizer", "default 0.01 (decoupled for adamw)"},
    {"--beta1", NULL, "F", TRAINS, "optimizer", "adam, adamw: default 0.9"},
    {"--beta2", NULL, "F", TRAINS, "optimizer", "adam, adamw: default 0.999"},
    {"--eps", NULL, "F", TRAINS, "optimizer", "adam, adamw: default 1e-8"},
    {"--clip-norm", NULL, "N", TRAINS, "optimizer", "clip the global gradient norm to N"},
    {"--schedule", NULL, "S", TRAINS, "optimizer", "constant (default), step or cosine"},
    {"--warmup", NULL, "STEPS", TRAINS, "optimizer", "linear warm-up"},
    {"--step-epochs", NULL, "N", TRAINS, "optimizer", "step: epochs between decays (default 10)"},
    {"--gamma", NULL, "F", TRAINS, "optimizer", "step: the decay factor (default 0.1)"},
    /* data sets */
    {"--resize", NULL, "HxW", TRAINS | EVAL | FEATURES, "images", "resize images, bilinear"},
    {"--channels", NULL, "1|3", TRAINS | EVAL | FEATURES, "images", "gray or RGB (default: as the first image)"},
    {"--mean", NULL, "M[,M,M]", TRAINS | EVAL | FEATURES, "images", "subtract, per channel or for all"},
    {"--std", NULL, "S[,S,S]", TRAINS | EVAL | FEATURES, "images", "then divide, per channel or for all"},
    {"--layout", NULL, "L", TRAINS | EVAL | FEATURES, "images", "nchw (default) or nhwc"},
    {"--crop-pad", NULL, "N", TRAINS, "images", "augment: pad N, crop back at random"},
    {"--hflip", NULL, NULL, TRAINS, "images", "augment: random horizontal flips"},
    {"--rotate", NULL, "DEG", TRAINS, "images", "augment: random rotation up to DEG"},
    {"--scale", NULL, "MIN,MAX", TRAINS, "images", "augment: random scale"},
    {"--frontend", NULL, "MODEL", TRAINS | FEWSHOT | CLUSTER, "audio", "WAV clips through a preprocessing model"},
    {"--frontend-scale", NULL, "A,B", TRAINS | FEWSHOT | CLUSTER, "audio", "its output mapped to x A + B"},
    {"--window", NULL, "N", TRAINS | FEWSHOT | CLUSTER, "audio", "windows of N frames"},
    {"--hop", NULL, "H", TRAINS | FEWSHOT | CLUSTER, "audio", "H frames apart"},
    {"--pool", NULL, "P", TRAINS | FEWSHOT | CLUSTER, "audio", "mean, max or none: the windows of a clip"},
    /* the freeze options */
    {"--train-from", NULL, "NAME[,NAME]", MODEL, "freeze",
     "unfreeze everything downstream of a value or node"},
    {"--trainable", NULL, "REGEX", MODEL, "freeze", "parameters matching REGEX become trainable"},
    {"--frozen", NULL, "REGEX", MODEL, "freeze", "parameters matching REGEX become frozen"},
    /* every command */
    {"--max-memory", NULL, "BYTES", ALL, "every command",
     "memory cap, e.g. 512M or 16G (default 4G, 0: none)"},
    {"--help", "-h", NULL, ALL, "every command", "this help"},
};
enum { N_OPTS = sizeof opts / sizeof opts[0] };

int fr_cli_command(const char *name) {
  for (int i = 0; i < N_CMDS; i++)
    if (!strcmp(name, cmds[i].name)) return i;
  return -1;
}

const char *fr_cli_usage(const char *cmd) {
  static char buf[160];
  int k = fr_cli_command(cmd);
  if (k < 0) return "frost <command> [options]";
  snprintf(buf, sizeof buf, "frost %s %s", cmds[k].name, cmds[k].args);
  return buf;
}

/* The closest of n names to a, within 3 edits; NULL if none. */
static const char *closest(const char *a, const char *const *names, int n) {
  const char *best = NULL;
  int bd = 4;
  for (int i = 0; i < n; i++) {
    int d = fr_edit_distance(a, names[i]);
    if (d < bd) bd = d, best = names[i];
  }
  return best;
}

fr_status fr_cli_unknown_command(const char *name) {
  const char *names[N_CMDS + 1];
  for (int i = 0; i < N_CMDS; i++) names[i] = cmds[i].name;
  names[N_CMDS] = "help";
  const char *best = closest(name, names, N_CMDS + 1);
  if (best)
    return fr_err(FR_ERR_USAGE, "unknown command '%s' (did you mean %s?)", name, best);
  return fr_err(FR_ERR_USAGE, "unknown command '%s' (see frost --help)", name);
}

fr_status fr_cli_unknown_option(const char *a, const char *cmd) {
  int k = fr_cli_command(cmd);
  unsigned bit = k < 0 ? ALL : 1u << k;
  const char *mine[N_OPTS], *all[N_OPTS];
  int n_mine = 0;
  for (int i = 0; i < N_OPTS; i++) {
    all[i] = opts[i].name;
    if (opts[i].cmds & bit) mine[n_mine++] = opts[i].name;
  }
  const char *best = closest(a, all, N_OPTS);
  if (best && !strcmp(best, a))
    return fr_err(FR_ERR_USAGE, "%s is not an option of frost %s (see frost "
                  "help %s)", a, cmd, cmd);
  /* The command's own first: --ouput-dir is run's --output-dir. */
  const char *own = closest(a, mine, n_mine);
  if (own) best = own;
  if (best) return fr_err(FR_ERR_USAGE, "unknown option '%s' (did you mean %s?)", a, best);
  return fr_err(FR_ERR_USAGE, "unknown option '%s' (see frost help %s)", a, cmd);
}

bool fr_cli_is_help(const char *a) {
  return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static void general_help(FILE *f) {
  fputs("usage: frost <command> [options]\n\ncommands:\n", f);
  for (int i = 0; i < N_CMDS; i++)
    fprintf(f, "  %-12s %s\n", cmds[i].name, cmds[i].summary);
  fputs("\n"
        "frost help COMMAND, frost COMMAND --help: a command's options and examples\n"
        "frost --version: the version, git commit, LLVM and the kernels' CPU level\n"
        "The user guide: docs/user-guide.md\n", f);
}

/* Lines of text, each indented by ind spaces. */
static void indented(FILE *f, const char *text, int ind) {
  while (*text) {
    const char *nl = strchr(text, '\n');
    int n = nl ? (int)(nl - text) : (int)strlen(text);
    fprintf(f, "%*s%.*s\n", ind, "", n, text);
    text += n + (nl != NULL);
  }
}

int fr_cli_help(FILE *f, const char *cmd) {
  if (!cmd) {
    general_help(f);
    return 0;
  }
  int k = fr_cli_command(cmd);
  if (k < 0) {
    fr_cli_unknown_command(cmd);
    return fr_cli_fail();
  }
  const cmd_help *h = &cmds[k];
  fprintf(f, "usage: frost %s %s\n", h->name, h->args);
  indented(f, h->what, 0);
  const char *group = NULL;
  for (int i = 0; i < N_OPTS; i++) {
    const opt_help *o = &opts[i];
    if (!(o->cmds & (1u << k))) continue;
    if (!group || strcmp(group, o->group)) {
      group = o->group;
      /* frost compile takes frost train's options with --train only. */
      bool trains = !strcmp(h->name, "compile") &&
                    (!strcmp(group, "training") || !strcmp(group, "optimizer") ||
                     !strcmp(group, "images") || !strcmp(group, "audio"));
      fprintf(f, "\n%s%s:\n", group, trains ? " (with --train)" : "");
    }
    char label[64];
    snprintf(label, sizeof label, "%s%s%s%s%s", o->alias ? o->alias : "",
             o->alias ? ", " : "", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    if (strlen(label) <= 24) fprintf(f, "  %-24s %s\n", label, o->help);
    else fprintf(f, "  %s\n  %-24s %s\n", label, "", o->help);
  }
  fputs("\nexample:\n", f);
  indented(f, h->example, 2);
  return 0;
}

void fr_cli_version(FILE *f) {
  static const char *const levels[] = {"not x86-64", "x86-64", "x86-64-v2",
                                       "x86-64-v3", "x86-64-v4"};
  int lv = fr_k_isa_level();
  fprintf(f, "frost %s\n", FR_VERSION);
  fprintf(f, "commit: %s\n", FR_GIT_COMMIT);
  fprintf(f, "LLVM: %s\n", fr_llvm_version());
  fprintf(f, "kernels: %s (%s)\n", levels[lv >= 0 && lv <= 4 ? lv : 0],
          FR_KERNEL_FLAGS);
  fputs(lv ? "JIT kernel bitcode: x86-64, x86-64-v3, x86-64-v4 (the widest "
        "the target CPU runs)\n" : "JIT kernel bitcode: generic\n", f);
  char dir[4096];
  if (fr_cli_cache_dir(dir, sizeof dir)) fprintf(f, "code cache: %s\n", dir);
  else fputs("code cache: off (set FROST_CACHE_DIR or HOME)\n", f);
}
