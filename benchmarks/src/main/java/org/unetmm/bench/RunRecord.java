package org.unetmm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Where a run's results go and what makes them reproducible: {@code results/<timestamp>/} and its
 * {@code run.json} (configuration, seed, JVM, kernel, CPU model, git commit).
 */
final class RunRecord {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

    private RunRecord() {
    }

    static Path newRunDirectory(Path resultsRoot) throws IOException {
        Path dir = resultsRoot.resolve(STAMP.format(Instant.now()));
        Files.createDirectories(dir);
        return dir;
    }

    static void writeRunJson(Path dir, String command, Map<String, Object> configuration) throws IOException {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("command", command);
        run.put("started", Instant.now().toString());
        run.put("configuration", configuration);
        run.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        run.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        run.put("cpu", cpuModel());
        run.put("cores", Runtime.getRuntime().availableProcessors());
        run.put("gitCommit", gitCommit());
        Files.writeString(dir.resolve("run.json"), toJson(run, "") + "\n");
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String gitCommit() {
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String out = new String(git.getInputStream().readAllBytes()).trim();
            return git.waitFor() == 0 ? out : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    @SuppressWarnings("unchecked")
    static String toJson(Object value, String indent) {
        if (value instanceof Map<?, ?> map) {
            String inner = indent + "  ";
            return map.entrySet().stream()
                    .map(e -> inner + quote(String.valueOf(e.getKey())) + ": " + toJson(e.getValue(), inner))
                    .collect(Collectors.joining(",\n", "{\n", "\n" + indent + "}"));
        }
        if (value instanceof Iterable<?> list) {
            StringBuilder sb = new StringBuilder("[");
            for (Object item : list) {
                sb.append(sb.length() > 1 ? ", " : "").append(toJson(item, indent));
            }
            return sb.append(']').toString();
        }
        if (value instanceof Number || value instanceof Boolean) {
            return String.valueOf(value);
        }
        return value == null ? "null" : quote(String.valueOf(value));
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
