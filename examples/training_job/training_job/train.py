"""Train a small GPT-style language model with DistributedDataParallel (started by torchrun).

Reads a token file (uint16 token ids, as written by common GPT-2 tokenization scripts) from the dataset on
FSx for Lustre, and checkpoints twice: often to local NVMe scratch (fast; survives torchrun restarting the
workers), and less often to the Lustre checkpoint directory, which FSx exports to S3 (durable; survives the
pod). On start it resumes from the newest checkpoint all ranks agree on.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="uint16 token file")
    parser.add_argument("--local-checkpoints", type=Path, required=True, help="directory on local NVMe")
    parser.add_argument("--durable-checkpoints", type=Path, required=True, help="directory exported to S3")
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--local-every", type=int, default=100, help="steps between local checkpoints")
    parser.add_argument("--durable-every", type=int, default=1_000, help="steps between durable checkpoints")
    parser.add_argument("--keep", type=int, default=3, help="checkpoints kept in each directory")
    parser.add_argument("--batch-size", type=int, default=16, help="sequences per GPU and step")
    parser.add_argument("--context", type=int, default=1024)
    parser.add_argument("--vocab-size", type=int, default=50_304)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=1234)
    return parser.parse_args()


class TinyGpt(nn.Module):
    def __init__(self, vocab: int, dim: int, layers: int, heads: int, context: int) -> None:
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(context, dim)
        block = nn.TransformerEncoderLayer(
            dim, heads, 4 * dim, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(block, layers)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        h = self.tokens(x) + self.positions(torch.arange(length, device=x.device))
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=x.device)
        return self.head(self.norm(self.blocks(h, mask=mask, is_causal=True)))


def batches(path: Path, context: int, size: int, seed: int):
    """Random windows of the memory-mapped token file (each rank draws its own, from its own seed)."""
    data = np.memmap(path, dtype=np.uint16, mode="r")
    rng = np.random.default_rng(seed)
    while True:
        starts = rng.integers(0, len(data) - context - 1, size)
        x = np.stack([data[s : s + context] for s in starts]).astype(np.int64)
        y = np.stack([data[s + 1 : s + 1 + context] for s in starts]).astype(np.int64)
        yield torch.from_numpy(x), torch.from_numpy(y)


def checkpoints(directory: Path) -> dict[int, Path]:
    return {int(p.stem.split("-")[1]): p for p in directory.glob("step-*.pt")}


def publish(source: Path | dict, directory: Path, step: int, keep: int) -> Path:
    """Write (a state) or copy (a file) to ``directory/step-N.pt`` through a temporary name, keep the newest."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"step-{step:08d}.pt"
    partial = directory / f".{target.name}.partial"
    if isinstance(source, Path):
        shutil.copyfile(source, partial)
    else:
        torch.save(source, partial)
    partial.rename(target)  # readers (and the export to S3) never see a half-written checkpoint
    existing = checkpoints(directory)
    for old in sorted(existing)[:-keep]:
        existing[old].unlink(missing_ok=True)
    return target


def resume_point(args: argparse.Namespace, device: torch.device) -> tuple[int, Path | None]:
    """The local checkpoint if every rank has the same newest one (torchrun restarted the workers), else the
    newest durable one (a new pod: its NVMe scratch is empty), else none."""
    local = checkpoints(args.local_checkpoints)
    newest_local = max(local, default=-1)
    bounds = torch.tensor([newest_local, -newest_local], device=device)
    dist.all_reduce(bounds, op=dist.ReduceOp.MAX)
    if newest_local >= 0 and bounds[0].item() == -bounds[1].item():
        return newest_local, local[newest_local]
    durable = checkpoints(args.durable_checkpoints)
    if durable:
        step = max(durable)
        return step, durable[step]
    return 0, None


def main() -> None:
    args = parse_args()
    dist.init_process_group("nccl")
    rank, local_rank = dist.get_rank(), int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank)
    torch.manual_seed(args.seed)

    model = TinyGpt(args.vocab_size, args.dim, args.layers, args.heads, args.context).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.1)
    step, path = resume_point(args, device)
    if path is not None:
        state = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if rank == 0:
            print(f"resumed from {path} at step {step}", flush=True)
    ddp = DistributedDataParallel(model, device_ids=[local_rank])

    data = batches(args.data, args.context, args.batch_size, args.seed + 7919 * rank + step)
    while step < args.steps:
        x, y = (t.to(device, non_blocking=True) for t in next(data))
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(ddp(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        if rank == 0 and step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f}", flush=True)
        if step % args.local_every == 0 or step == args.steps:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}
            if local_rank == 0:  # one copy per node: replicas are identical under DDP
                local = publish(state, args.local_checkpoints, step, args.keep)
                if rank == 0 and (step % args.durable_every == 0 or step == args.steps):
                    publish(local, args.durable_checkpoints, step, args.keep)
            dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
