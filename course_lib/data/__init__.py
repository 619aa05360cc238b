"""Datasets for the course: registry, mirror/cache/download look-up, loaders, ``tf.data`` pipelines.

Modules, one concern each:

- :mod:`~course_lib.data.registry`  one :class:`DatasetSpec` per dataset (files, hashes, URLs,
  licence, citation) in :data:`REGISTRY`
- :mod:`~course_lib.data.fetch`     :func:`locate`: mirror (``COURSE_DATA_DIR``), then cache
  (``COURSE_CACHE_DIR``), then a verified download (unless ``COURSE_OFFLINE=1``)
- :mod:`~course_lib.data.images`    MNIST, Fashion-MNIST, CIFAR-10, cats vs dogs
- :mod:`~course_lib.data.text`      IMDB, SST-2, rt-polarity, ChnSentiCorp, waimai_10k
- :mod:`~course_lib.data.tables`    German credit, MovieLens 100K, scikit-learn tables
- :mod:`~course_lib.data.corpora`   language-modelling corpora: Tiny Shakespeare, the Tang poems
  (全唐诗) and their quatrains (:func:`tang_quatrains`, :func:`quatrain_form_ok`)
- :mod:`~course_lib.data.pipeline`  :func:`make_dataset`, :func:`image_dataset_from_files`
- :mod:`~course_lib.data.sampling`  :func:`subset` (stratified FAST-mode samples)
- :mod:`~course_lib.data.status`    :func:`dataset_status` for ``course doctor``

Importing this package does not import TensorFlow.
"""

from .corpora import load_tang_poems, load_tiny_shakespeare, quatrain_form_ok, tang_quatrains
from .fetch import (ChecksumMismatchError, DatasetError, DatasetNotAvailableError, Located,
                    UnverifiedDownloadError, locate)
from .images import (CATS_VS_DOGS_CLASSES, CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES,
                     cats_vs_dogs_files, load_cats_vs_dogs, load_cifar10, load_fashion_mnist,
                     load_mnist)
from .pipeline import image_dataset_from_files, make_dataset
from .registry import REGISTRY, DatasetSpec, Download, FileSpec, get_spec
from .sampling import subset
from .status import dataset_status
from .tables import SKLEARN_TABLES, load_german_credit, load_movielens_100k, load_sklearn_table
from .text import load_chnsenticorp, load_imdb, load_rt_polarity, load_sst2, load_waimai

__all__ = [
    "REGISTRY", "DatasetSpec", "FileSpec", "Download", "get_spec",
    "DatasetError", "DatasetNotAvailableError", "ChecksumMismatchError", "UnverifiedDownloadError",
    "Located", "locate", "dataset_status",
    "load_mnist", "load_fashion_mnist", "load_cifar10", "load_cats_vs_dogs", "cats_vs_dogs_files",
    "MNIST_CLASSES", "FASHION_MNIST_CLASSES", "CIFAR10_CLASSES", "CATS_VS_DOGS_CLASSES",
    "load_imdb", "load_sst2", "load_rt_polarity", "load_chnsenticorp", "load_waimai",
    "load_german_credit", "load_movielens_100k", "load_sklearn_table", "SKLEARN_TABLES",
    "load_tiny_shakespeare", "load_tang_poems", "tang_quatrains", "quatrain_form_ok",
    "make_dataset", "image_dataset_from_files", "subset",
]
