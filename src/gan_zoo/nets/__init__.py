"""Generators and critics. Every critic returns a CriticOutput (score, features)."""

from gan_zoo.nets.base import AutoencoderCritic, Critic, CriticOutput, Generator, Scored
from gan_zoo.nets.conv_autoencoder import ConvAutoencoderCritic
from gan_zoo.nets.dcgan import DCGANCritic, DCGANGenerator
from gan_zoo.nets.minibatch_discrimination import MinibatchDiscrimination
from gan_zoo.nets.mlp import MLPAutoencoderCritic, MLPCritic, MLPGenerator
from gan_zoo.nets.resnet import ResNetCritic, ResNetGenerator

__all__ = [
    "AutoencoderCritic",
    "ConvAutoencoderCritic",
    "Critic",
    "CriticOutput",
    "DCGANCritic",
    "DCGANGenerator",
    "Generator",
    "MLPAutoencoderCritic",
    "MLPCritic",
    "MLPGenerator",
    "MinibatchDiscrimination",
    "ResNetCritic",
    "ResNetGenerator",
    "Scored",
]
