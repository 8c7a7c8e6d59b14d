//! Bundles the GraphiQL playground (api/playground, npm + esbuild) into the
//! binary, so the playground works without internet access. Without npm (or
//! if the build fails) the service is still built: it then serves GraphiQL
//! from a CDN and says so in its log (cfg `playground_cdn`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(playground_cdn)");
    for path in ["playground/src", "playground/package.json", "playground/package-lock.json"] {
        println!("cargo::rerun-if-changed={path}");
    }
    println!("cargo::rerun-if-env-changed=PLAYGROUND_CDN");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("playground");
    if std::env::var_os("PLAYGROUND_CDN").is_some() {
        return cdn("PLAYGROUND_CDN is set");
    }
    match build(Path::new("playground"), &out) {
        Ok(()) => {}
        Err(why) => cdn(&why),
    }
}

fn cdn(why: &str) {
    println!("cargo::warning=the playground is not bundled ({why}); the service will load GraphiQL from a CDN");
    println!("cargo::rustc-cfg=playground_cdn");
}

fn run(dir: &Path, args: &[&str]) -> Result<(), String> {
    let status =
        Command::new("npm").args(args).current_dir(dir).status().map_err(|e| format!("npm is not available: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("npm {} failed", args.join(" "))) }
}

fn build(dir: &Path, out: &Path) -> Result<(), String> {
    if !dir.join("node_modules/graphiql").exists() {
        run(dir, &["ci", "--no-audit", "--no-fund", "--loglevel=error"])?;
    }
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let outdir = format!("--outdir={}", out.display());
    run(dir, &["run", "--silent", "build", "--", &outdir, "--log-level=warning"])?;
    for file in ["playground.js", "playground.css"] {
        if !out.join(file).exists() {
            return Err(format!("{file} was not produced"));
        }
    }
    Ok(())
}
