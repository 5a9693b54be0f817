"""Convert a PyTorch checkpoint written by ``torch.save`` (a pickle) into a safetensors file that
``tinytorch.load`` reads: once, with PyTorch, so that tinytorch never unpickles anything.

    python scripts/convert_torch_checkpoint.py model.pt model.safetensors [--key state_dict]

``torch.load(..., weights_only=True)`` reads only tensors and containers (no code runs); the
tensors of the state_dict (``--key`` picks it out of a bigger checkpoint) are copied out of any
shared storage and bfloat16 ones are widened to float32 (tinytorch has no bfloat16).
"""

import argparse


def convert(source, target, key=None):
    """Write the state_dict in ``source`` (a torch.save file) to ``target`` as safetensors."""
    import torch
    from safetensors.torch import save_file

    checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    state_dict = checkpoint[key] if key else checkpoint
    if not isinstance(state_dict, dict) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise ValueError(f"{source} holds no flat dict of tensors{' under ' + repr(key) if key else ''}: pass --key")
    tensors = {}
    for name, tensor in state_dict.items():
        tensor = tensor.detach().to(torch.float32) if tensor.dtype == torch.bfloat16 else tensor.detach()
        tensors[name] = tensor.clone().contiguous()  # tied weights share storage, which save_file refuses
    save_file(tensors, target, metadata={"format": "pt"})
    return sorted(tensors)


def main(argv=None):
    parser = argparse.ArgumentParser(description="torch.save checkpoint -> safetensors, for tinytorch.load")
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--key", default=None, help="the entry of the checkpoint that holds the state_dict")
    args = parser.parse_args(argv)
    names = convert(args.source, args.target, args.key)
    print(f"wrote {len(names)} tensors to {args.target}")


if __name__ == "__main__":
    main()
