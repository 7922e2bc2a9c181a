"""backprop_book: the small, tested helper package of the book.

``reference``: activations, costs, forward and backward passes of a fully connected
network, samples as columns. ``gradcheck``: centered differences, relative error, a gradient
check of ``backward``, and ``compare`` in the style of Karpathy's backprop ninja.

Imported by module where a chapter needs them: ``layers`` (batch norm, layer norm, dropout,
gradient clipping) and ``deepnet`` (a deep network of plain or residual, normalized blocks,
with a checkpointed backward pass).
"""

from .gradcheck import (
    GradCheckReport,
    check_gradients,
    compare,
    numerical_gradient,
    relative_error,
)
from .reference import (
    ACTIVATION_NAMES,
    ACTIVATIONS,
    COSTS,
    Cache,
    activate,
    activation_backward,
    backward,
    backward_deltas,
    check_inputs,
    cost_from_cache,
    cross_entropy,
    flatten,
    forward,
    identity,
    identity_prime,
    init_params,
    log_softmax,
    loss,
    loss_and_grads,
    output_delta,
    relu,
    relu_prime,
    sigmoid,
    sigmoid_prime,
    softmax,
    softmax_vjp,
    squared_error,
    tanh,
    tanh_prime,
    unflatten,
)

__all__ = [
    # activations and their derivatives
    "ACTIVATIONS",
    "ACTIVATION_NAMES",
    "sigmoid",
    "sigmoid_prime",
    "tanh",
    "tanh_prime",
    "relu",
    "relu_prime",
    "identity",
    "identity_prime",
    "softmax",
    "log_softmax",
    "softmax_vjp",
    "activate",
    "activation_backward",
    # costs
    "COSTS",
    "squared_error",
    "cross_entropy",
    # the network
    "init_params",
    "Cache",
    "forward",
    "output_delta",
    "backward_deltas",
    "backward",
    "cost_from_cache",
    "loss",
    "loss_and_grads",
    "check_inputs",
    "flatten",
    "unflatten",
    # gradient checks
    "numerical_gradient",
    "relative_error",
    "GradCheckReport",
    "check_gradients",
    "compare",
]
