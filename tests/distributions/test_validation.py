"""Argument and value validation: PyTorch's ValueErrors with PyTorch's words (the first line of
each message, "torch." read as "tinytorch."), and the switches that turn validation off."""

import pytest

import tinytorch
from tinytorch.distributions import Distribution

torch = pytest.importorskip("torch")


def _d(L):
    return L.distributions


MISTAKES = [
    ("negative scale (numbers)", lambda L: _d(L).Normal(0.0, -1.0)),
    ("negative scale (tensor)", lambda L: _d(L).Normal(L.zeros(2), L.tensor([1.0, -1.0]))),
    ("NaN loc", lambda L: _d(L).Laplace(L.tensor([float("nan")]), 1.0)),
    ("probs above 1", lambda L: _d(L).Bernoulli(probs=1.5)),
    ("neither probs nor logits", lambda L: _d(L).Bernoulli()),
    ("both probs and logits", lambda L: _d(L).Categorical(probs=L.ones(2), logits=L.zeros(2))),
    ("0-d categorical probs", lambda L: _d(L).Categorical(probs=L.tensor(0.5))),
    ("0-d categorical logits", lambda L: _d(L).OneHotCategorical(logits=L.tensor(0.5))),
    ("negative categorical probs", lambda L: _d(L).Categorical(probs=L.tensor([0.5, -0.1, 0.6]))),
    ("low above high", lambda L: _d(L).Uniform(1.0, 0.0)),
    ("zero rate", lambda L: _d(L).Exponential(L.tensor([1.0, 0.0]))),
    ("negative Poisson rate", lambda L: _d(L).Poisson(-1.0)),
    ("fractional total_count", lambda L: _d(L).Binomial(2.5, probs=L.tensor([0.5]))),
    ("0-d MVN loc", lambda L: _d(L).MultivariateNormal(L.tensor(0.0), covariance_matrix=L.eye(1))),
    ("two MVN matrices", lambda L: _d(L).MultivariateNormal(L.zeros(2), covariance_matrix=L.eye(2), scale_tril=L.eye(2))),
    ("no MVN matrix", lambda L: _d(L).MultivariateNormal(L.zeros(2))),
    ("1-d scale_tril", lambda L: _d(L).MultivariateNormal(L.zeros(2), scale_tril=L.ones(2))),
    ("scale_tril not lower", lambda L: _d(L).MultivariateNormal(L.zeros(2), scale_tril=L.ones(2, 2))),
    ("covariance not positive-definite", lambda L: _d(L).MultivariateNormal(L.zeros(2), covariance_matrix=L.tensor([[1.0, 2.0], [2.0, 1.0]]))),
    ("precision not symmetric", lambda L: _d(L).MultivariateNormal(L.zeros(2), precision_matrix=L.tensor([[1.0, 0.5], [0.0, 1.0]]))),
    ("Independent over too many dims", lambda L: _d(L).Independent(_d(L).Normal(L.zeros(2), 1.0), 2)),
    ("mixture of a Normal", lambda L: _d(L).MixtureSameFamily(_d(L).Normal(0.0, 1.0), _d(L).Normal(L.zeros(2), 1.0))),
    ("mixture with a non-distribution", lambda L: _d(L).MixtureSameFamily(_d(L).Categorical(logits=L.zeros(2)), L.zeros(2))),
    ("mixture of 3 over 4 components", lambda L: _d(L).MixtureSameFamily(_d(L).Categorical(logits=L.zeros(3)), _d(L).Normal(L.zeros(4), 1.0))),
    ("mixture batch shapes", lambda L: _d(L).MixtureSameFamily(_d(L).Categorical(logits=L.zeros(2, 3)), _d(L).Normal(L.zeros(5, 3), 1.0))),
    ("value outside the support", lambda L: _d(L).Exponential(1.0).log_prob(L.tensor(-1.0))),
    ("value not an integer", lambda L: _d(L).Poisson(L.ones(2)).log_prob(L.tensor([1.0, 0.5]))),
    ("value above total_count", lambda L: _d(L).Binomial(3, probs=L.tensor([0.5])).log_prob(L.tensor([4.0]))),
    ("category out of range", lambda L: _d(L).Categorical(logits=L.zeros(3)).log_prob(L.tensor(3))),
    ("not one-hot", lambda L: _d(L).OneHotCategorical(logits=L.zeros(3)).log_prob(L.tensor([1.0, 1.0, 0.0]))),
    ("value does not broadcast", lambda L: _d(L).Normal(L.zeros(3), 1.0).log_prob(L.zeros(4))),
    ("value's event shape", lambda L: _d(L).MultivariateNormal(L.zeros(2), L.eye(2)).log_prob(L.zeros(3))),
    ("value not a tensor", lambda L: _d(L).Normal(0.0, 1.0).log_prob(0.5)),
    ("value outside a uniform", lambda L: _d(L).Uniform(0.0, 1.0).log_prob(L.tensor(1.5))),
    ("cdf outside the support", lambda L: _d(L).Exponential(1.0).cdf(L.tensor(-1.0))),
    ("number and string", lambda L: _d(L).Normal(0.0, "1")),
]


def _first_line(error):
    return str(error).split("\n")[0].replace("tinytorch.", "torch.")


@pytest.mark.parametrize("name, make", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_pytorch_words(name, make):
    with pytest.raises(ValueError) as theirs:
        make(torch)
    with pytest.raises(ValueError) as ours:
        make(tinytorch)
    assert _first_line(ours.value) == _first_line(theirs.value)


def test_the_message_shows_the_invalid_values():
    with pytest.raises(ValueError) as info:
        tinytorch.distributions.Normal(tinytorch.zeros(2), tinytorch.tensor([1.0, -1.0]))
    assert str(info.value).endswith("but found invalid values:\n" + str(tinytorch.tensor([1.0, -1.0])))


def test_validation_can_be_turned_off():
    d = tinytorch.distributions
    assert d.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0
    assert float(d.Exponential(1.0, validate_args=False).log_prob(tinytorch.tensor(-1.0))) == 1.0  # log(1) - 1 * (-1)
    previous = Distribution._validate_args
    try:
        Distribution.set_default_validate_args(False)
        assert d.Bernoulli(probs=1.5).probs.item() == 1.5
        with pytest.raises(ValueError):
            d.Bernoulli(probs=1.5, validate_args=True)
    finally:
        Distribution.set_default_validate_args(previous)
    with pytest.raises(ValueError):
        d.Bernoulli(probs=1.5)


def test_set_default_validate_args_takes_a_bool():
    with pytest.raises(ValueError):
        Distribution.set_default_validate_args("yes")
    assert Distribution._validate_args is True


def test_binomial_entropy_needs_one_total_count():
    d = tinytorch.distributions.Binomial(tinytorch.tensor([2.0, 3.0]), probs=tinytorch.tensor([0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count not supported by `entropy`."):
        d.entropy()
