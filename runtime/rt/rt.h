/* rt.h: the internal header of an artifact's command line (libfrost_rt):
 * main.c (info, run, bench) and train.c (train, export, --weights). */
#ifndef FROST_RT_H
#define FROST_RT_H

#include "../runtime.h"
#include "abi.h"

/* OUT train DATA [options]: frost train's loop on the compiled step. */
fr_status frt_train(const frost_model_info *m, int argc, char **argv);
/* OUT export OUT.onnx: the embedded model with the current weights. */
fr_status frt_export(const frost_model_info *m, const char *path);
/* --weights DIR: the trainable block from a checkpoint (OUT train -o DIR,
 * or frost train's), checked against this artifact's model and layout;
 * on failure the weights are unchanged. */
fr_status frt_load_weights(const frost_model_info *m, const char *dir);
/* OUT run --wav FILE: the clip through the compiled front end, backbone
 * and head; prints the top classes with their probabilities (names from
 * classes_dir/classes.txt, which OUT train -o writes, when there). */
fr_status frt_run_wav(const frost_model_info *m, const char *path,
                      const char *classes_dir);

/* OUT run --image FILE: one sample (an image, preprocessed as compiled
 * in, or .npy) through the model; the top classes (softmax of its
 * scores), named as for --wav. */
fr_status frt_run_sample(const frost_model_info *m, const char *path,
                         const char *classes_dir);
/* The activation buffer the compiled training's functions share: the
 * largest of the step's, the evaluation's, the backbone's and the front
 * end's. */
uint64_t frt_train_activation_bytes(const frost_train_info *t);
/* main.c's run of the model on the caller's buffers. */
fr_status frt_run_model(const void *const *in, void *const *out);

#endif
