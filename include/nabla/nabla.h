/* nabla/nabla.h: everything, for programs that want one include. */
#ifndef NABLA_H
#define NABLA_H

#include "nabla/alloc.h"
#include "nabla/backend.h"
#include "nabla/conv.h"
#include "nabla/data.h"
#include "nabla/distributed.h"
#include "nabla/error.h"
#include "nabla/grad.h"
#include "nabla/gradcheck.h"
#include "nabla/indexing.h"
#include "nabla/io.h"
#include "nabla/layer.h"
#include "nabla/loss.h"
#include "nabla/metric.h"
#include "nabla/model.h"
#include "nabla/model_io.h"
#include "nabla/movement.h"
#include "nabla/op.h"
#include "nabla/ops.h"
#include "nabla/optim.h"
#include "nabla/rng.h"
#include "nabla/tape.h"
#include "nabla/tensor.h"
#include "nabla/trace.h"
#include "nabla/viz.h"

#endif
