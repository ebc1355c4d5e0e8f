# %% [markdown]
# # 12 embeddings: tokens to vectors
#
# **What you build.** `Embedding` (a lookup table with a gradient only for the rows used),
# sinusoidal and learned positional encodings, and a character tokenizer. Details:
# [tt-embeddings' README](../packages/tt-embeddings/README.md).
#
# **The math.** `PE[pos, 2i] = sin(pos / 10000^(2i/d))`, `PE[pos, 2i+1] = cos(...)`: each pair
# of dimensions is a clock of its own frequency.
#
# **The cost.** `vocab·d` parameters; a lookup copies `B·T·d` numbers and does no arithmetic.

# %%
import numpy as np
import tt_embeddings as E
import tt_tensor as tt

tokenizer = E.CharTokenizer(sorted(set("hello world")))
ids = tokenizer.encode("hello")
ids, tokenizer.decode(ids)

# %%
table = E.Embedding(tokenizer.vocab_size, 4)
vectors = table(tt.tensor([ids]))
vectors.shape, np.abs(vectors.numpy()[0, 0] - table.weight.numpy()[ids[0]]).max()

# %%
pe = E.sinusoidal_positional_encoding(50, 16).numpy()  # (position, dimension)
expected = np.sin(7 / 10000 ** (2 * 3 / 16))
if HAVE_MATPLOTLIB:
    plt.imshow(pe.T, aspect="auto", cmap="RdBu")
    plt.xlabel("position")
    plt.ylabel("dimension")
    plt.show()
else:
    print(pe[:5, :6].round(3))
float(pe[7, 6]), float(expected)
