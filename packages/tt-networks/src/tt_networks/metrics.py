"""Classification accuracy."""

import numpy as np
from tt_tensor import Tensor


def _array(x):
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def accuracy(input, target, threshold=0.5):
    """The fraction of correct predictions, as a float in [0, 1].

    input (N, C) with C >= 2: the prediction is argmax over classes (logits or probabilities),
    target (N,) holds class indices. input (N,) or (N, 1): a binary score, predicted 1 when
    > threshold; use threshold=0.5 for probabilities and threshold=0.0 for logits.
    The target may be (N,) or (N, 1) and int, float or bool: it is flattened and compared by
    value with the predicted class (0/1 when binary; 1.0 and True equal 1). An empty batch
    raises ValueError.
    """
    scores, target = _array(input), _array(target)
    binary = scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1)
    if not binary and scores.ndim != 2:
        raise ValueError(f"accuracy: input must be (N, C) or (N,) / (N, 1), got {scores.shape}")
    if target.size != scores.shape[0]:
        raise ValueError(f"accuracy: target of shape {target.shape} does not match input of "
                         f"shape {scores.shape} (one label per row)")
    if scores.shape[0] == 0:
        raise ValueError("accuracy: the batch is empty")
    ### BEGIN SOLUTION
    if binary:
        predicted = (scores.reshape(-1) > threshold).astype(np.int64)
    else:
        predicted = scores.argmax(axis=1)
    return float(np.mean(predicted == target.reshape(-1)))
    ### END SOLUTION
