"""Generators and critics. Every critic returns a CriticOutput (score, features)."""

from gan_zoo.nets.base import AutoencoderCritic, Critic, CriticOutput, Generator, Scored
from gan_zoo.nets.mlp import MLPAutoencoderCritic, MLPCritic, MLPGenerator

__all__ = [
    "AutoencoderCritic",
    "Critic",
    "CriticOutput",
    "Generator",
    "MLPAutoencoderCritic",
    "MLPCritic",
    "MLPGenerator",
    "Scored",
]
