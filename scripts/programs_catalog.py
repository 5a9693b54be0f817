"""The programs scripts/run_programs.py runs (issue 14's list), and how each is cut short.

A program is its upstream script plus every file of the script's directory (other modules, shipped
data), run from that directory. Steps are cut with the program's own flags where it has them;
where it has none, ``patches`` lists the minimal textual change (an epoch/step constant, or one line
that skips a download whose data a fixture already wrote) and the table shows it.
"""

from dataclasses import dataclass, field

import programs_fixtures as fixtures

EXAMPLES = "pytorch/examples"
TUTORIALS = "pytorch/tutorials"
MAKEMORE = "karpathy/makemore"


@dataclass
class Program:
    name: str
    repo: str
    script: str  # path of the script in the repository
    args: tuple = ()
    reduced: str = ""  # what was cut, in words ("" = runs in full)
    patches: tuple = ()  # (upstream text, replacement, why): applied to the script before the import rewrite
    fixtures: tuple = ()  # functions of the working directory that put data in place; each returns a line
    before: tuple = ()  # (script, args): the program's own preparation steps, run first, also rewritten
    skip: str = ""  # why it is not run at all
    note: str = ""  # shown next to the reason when it does not pass
    timeout: int = 300
    env: dict = field(default_factory=dict)


def _tutorial(name, path, **kwargs):
    return Program(name, TUTORIALS, "beginner_source/" + path, **kwargs)


def _fashion(cwd):
    return fixtures.fashion_mnist(cwd, "data")


def _mnist_up(cwd):
    return fixtures.mnist(cwd, "../data")


def _mnist_here(cwd):
    return fixtures.mnist(cwd, "data")


_DRY = "--epochs 1 --dry-run: one training batch, then the full test pass"

PROGRAMS = [
    # PyTorch's "Learn the Basics"
    _tutorial("basics/quickstart", "basics/quickstart_tutorial.py", fixtures=(_fashion,)),
    _tutorial("basics/tensorqs", "basics/tensorqs_tutorial.py"),
    _tutorial("basics/data", "basics/data_tutorial.py", fixtures=(_fashion,)),
    _tutorial("basics/transforms", "basics/transforms_tutorial.py", fixtures=(_fashion,)),
    _tutorial("basics/buildmodel", "basics/buildmodel_tutorial.py"),
    _tutorial("basics/autogradqs", "basics/autogradqs_tutorial.py"),
    _tutorial("basics/optimization", "basics/optimization_tutorial.py", fixtures=(_fashion,)),
    _tutorial("basics/saveloadrun", "basics/saveloadrun_tutorial.py",
              note="the tutorial's first line loads torchvision's pretrained VGG-16 (528 MB), a download; "
                   "its saving and loading of the whole model is not reached"),
    # The 60-minute blitz
    _tutorial("blitz/tensor", "blitz/tensor_tutorial.py"),
    _tutorial("blitz/autograd", "blitz/autograd_tutorial.py"),
    _tutorial("blitz/neural_networks", "blitz/neural_networks_tutorial.py"),
    _tutorial("blitz/cifar10", "blitz/cifar10_tutorial.py",
              skip="not run: downloads CIFAR-10 (170 MB) and, like torchvision, checks each batch file's MD5, "
                   "so generated stand-in files are refused; substituting FakeData would change two statements"),
    # Learning PyTorch with Examples
    _tutorial("examples/polynomial_tensor", "examples_tensor/polynomial_tensor.py"),
    _tutorial("examples/polynomial_autograd", "examples_autograd/polynomial_autograd.py"),
    _tutorial("examples/polynomial_custom_function", "examples_autograd/polynomial_custom_function.py"),
    _tutorial("examples/polynomial_nn", "examples_nn/polynomial_nn.py"),
    _tutorial("examples/polynomial_optim", "examples_nn/polynomial_optim.py"),
    _tutorial("examples/polynomial_module", "examples_nn/polynomial_module.py"),
    _tutorial("examples/dynamic_net", "examples_nn/dynamic_net.py"),
    # pytorch/examples
    Program("mnist", EXAMPLES, "mnist/main.py", ("--epochs", "1", "--dry-run"), _DRY, fixtures=(_mnist_up,)),
    Program("mnist_rnn", EXAMPLES, "mnist_rnn/main.py", ("--epochs", "1", "--dry-run"), _DRY, fixtures=(_mnist_up,)),
    Program("mnist_hogwild", EXAMPLES, "mnist_hogwild/main.py", ("--epochs", "1", "--dry-run", "--num-processes", "2"),
            "--epochs 1 --dry-run: one batch in each of 2 processes, then the full test pass", fixtures=(_mnist_up,)),
    Program("time_sequence_prediction", EXAMPLES, "time_sequence_prediction/train.py", ("--steps", "1"),
            "--steps 1 (LBFGS step) instead of 15", before=(("generate_sine_wave.py", ()),)),
    Program("word_language_model (LSTM)", EXAMPLES, "word_language_model/main.py",
            ("--model", "LSTM", "--epochs", "1", "--dry-run"),
            "--epochs 1 --dry-run: one training batch, then the full validation and test passes",
            fixtures=(fixtures.wikitext2_train,)),
    Program("word_language_model (Transformer)", EXAMPLES, "word_language_model/main.py",
            ("--model", "Transformer", "--epochs", "1", "--dry-run"),
            "--epochs 1 --dry-run: one training batch, then the full validation and test passes",
            fixtures=(fixtures.wikitext2_train,)),
    Program("dcgan", EXAMPLES, "dcgan/main.py", ("--dataset", "fake", "--niter", "1", "--dry-run"),
            "--niter 1 --dry-run: one batch of FakeData"),
    Program("super_resolution", EXAMPLES, "super_resolution/main.py", ("--upscale_factor", "3", "--nEpochs", "1"),
            "--nEpochs 1 instead of 2", fixtures=(fixtures.bsds300,)),
    Program("siamese_network", EXAMPLES, "siamese_network/main.py", ("--epochs", "1", "--dry-run"), _DRY,
            fixtures=(_mnist_up,)),
    Program("gcn", EXAMPLES, "gcn/main.py", ("--epochs", "5"), "--epochs 5 instead of 200", fixtures=(fixtures.cora,),
            patches=(("    with requests.get(cora_url, stream=True) as tgz_file:\n",
                      "    if False:  # run_programs: no network; cora/ was generated\n",
                      "the unconditional download of cora.tgz skipped (one line)"),)),
    Program("gat", EXAMPLES, "gat/main.py", ("--epochs", "5"), "--epochs 5 instead of 300", fixtures=(fixtures.cora,)),
    Program("vae", EXAMPLES, "vae/main.py", ("--epochs", "1"), "--epochs 1 instead of 10", fixtures=(_mnist_up,)),
    Program("regression", EXAMPLES, "regression/main.py"),
    Program("mnist_forward_forward", EXAMPLES, "mnist_forward_forward/main.py", ("--epochs", "10"),
            "--epochs 10 instead of 1000", fixtures=(_mnist_here,)),
]

# makemore, every model type
for _type in ("bigram", "mlp", "rnn", "gru", "bow", "transformer"):
    PROGRAMS.append(Program(f"makemore --type {_type}", MAKEMORE, "makemore.py",
                            ("-i", "names.txt", "-o", "out", "--type", _type, "--max-steps", "501"),
                            "--max-steps 501 (one evaluation + checkpoint at step 500, samples at 200 and 400)"))
