"""Theory you can run: exact simulations of the subset-sum results behind strong lottery tickets.

One module per result, each with exact solvers (checked against brute force in
the tests) and the sweeps its chapter plots:

* :mod:`~slt.theory.subset_sum` -- random subset sum (Lueker; Pensia et al.);
* :mod:`~slt.theory.frozen` -- with pruned and locked variables (Otsuka et al.);
* :mod:`~slt.theory.quantized` -- exact hits on integer grids (Borgs, Chayes and Pittel; Kumar and Natale);
* :mod:`~slt.theory.fixed_size` -- subsets of exactly k elements (Natale et al.);
* :mod:`~slt.theory.neuron_pruning` -- weight vs neuron pruning of one ReLU neuron;
* :mod:`~slt.theory.construct` -- building a ticket for a given network, weight by weight.

Every public function refuses input it cannot answer with one ConfigError
sentence (:mod:`~slt.theory.checks`), and estimates work that could run for
minutes before starting it.
"""
