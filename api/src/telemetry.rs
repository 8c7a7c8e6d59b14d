//! Logs and traces. Logs are JSON lines on stdout (`LOG_FORMAT=pretty` for
//! people), filtered by `RUST_LOG`. When `OTEL_EXPORTER_OTLP_ENDPOINT` is
//! set (e.g. `http://collector:4318`), spans are also exported over OTLP/HTTP
//! (protobuf) to `<endpoint>/v1/traces`, batched, as service
//! `partner-records-api` (override with `OTEL_SERVICE_NAME`).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] flushes it.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the trace exporter, if there is one.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("flushing traces failed: {e}");
        }
    }
}

fn exporter() -> Option<SdkTracerProvider> {
    std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|v| !v.trim().is_empty())?;
    let exporter = match opentelemetry_otlp::SpanExporter::builder().with_http().build() {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("OpenTelemetry export is off: {e}");
            return None;
        }
    };
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "partner-records-api".into());
    Some(
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(name).build())
            .build(),
    )
}

/// Installs the global subscriber.
pub fn init() -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let pretty = std::env::var("LOG_FORMAT").is_ok_and(|f| f == "pretty");
    let provider = exporter();
    let otel = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("partner-records-api")));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    if pretty {
        registry.with(tracing_subscriber::fmt::layer()).init();
    } else {
        registry.with(tracing_subscriber::fmt::layer().json()).init();
    }
    Telemetry { provider }
}
