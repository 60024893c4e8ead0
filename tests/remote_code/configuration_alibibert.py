"""Config of the test fixture in :mod:`alibi_bert` (a BERT config plus the ALiBi table size)."""
from transformers import BertConfig


class AlibiBertConfig(BertConfig):
    def __init__(self, alibi_starting_size: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.alibi_starting_size = alibi_starting_size
