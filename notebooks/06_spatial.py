# %% [markdown]
# # 06 spatial: convolution and pooling
#
# **What you build.** `Conv2d`, `MaxPool2d`, `AvgPool2d`: a convolution is a sliding window
# (a free view) reshaped into a matrix (im2col) and one `matmul`. Details:
# [tt-spatial's README](../packages/tt-spatial/README.md).
#
# **The math.** Output size `OH = (H + 2·padding - KH) // stride + 1`; each output is
# `sum over c, i, j of W[o, c, i, j] · x[c, oh·s + i, ow·s + j] + b[o]`.
#
# **The cost.** `2·B·C_out·OH·OW·C_in·KH·KW` flops; im2col copies the input about `KH·KW / s²`
# times.

# %%
import numpy as np
import tt_spatial as S
import tt_tensor as tt

conv = S.Conv2d(3, 8, kernel_size=3, padding=1)
image = tt.randn(2, 3, 32, 32)
conv(image).shape, S.MaxPool2d(2)(conv(image)).shape

# %% [markdown]
# One output of the convolution by the formula, with NumPy loops:

# %%
x = np.pad(image.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
w, b = conv.weight.numpy(), conv.bias.numpy()
by_hand = (w[5] * x[1, :, 10:13, 20:23]).sum() + b[5]
float(conv(image).numpy()[1, 5, 10, 20]), float(by_hand)

# %% [markdown]
# An edge detector: a vertical-edge kernel on a picture that is dark on the left, bright on
# the right.

# %%
picture = np.zeros((1, 1, 8, 8), dtype=np.float32)
picture[..., 4:] = 1.0
edge = S.Conv2d(1, 1, kernel_size=3, bias=False)
edge.weight.data[...] = np.array([[-1, 0, 1]] * 3, dtype=np.float32)
response = edge(tt.tensor(picture)).numpy()[0, 0]
if HAVE_MATPLOTLIB:
    plt.imshow(response, cmap="gray")
    plt.colorbar()
    plt.show()
else:
    print(response)
