package dev.art4j.core.hub;

/**
 * The kind of a Hugging Face Hub repository. It decides the cache folder prefix
 * ({@code models--Org--Name}, {@code datasets--Org--Name}) and the URL paths.
 */
public enum RepoType {
  MODEL("models", "", "model"),
  DATASET("datasets", "datasets/", "dataset");

  final String plural;
  final String urlPrefix;
  final String apiName;

  RepoType(String plural, String urlPrefix, String apiName) {
    this.plural = plural;
    this.urlPrefix = urlPrefix;
    this.apiName = apiName;
  }

  /** The cache folder of {@code repoId}: {@code models--Qwen--Qwen2.5-0.5B-Instruct}. */
  String cacheFolder(String repoId) {
    return plural + "--" + repoId.replace("/", "--");
  }
}
