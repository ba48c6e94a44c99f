//! Test support shared by the integration tests: the backends under test and their lanes, PyTorch
//! fixtures, the reductions they record, and tolerant comparisons. The fixture replay is in
//! [`replay`], the f64 finite differences in [`gradcheck`], the tables of error messages in
//! [`panics`].
#![allow(dead_code)]

pub mod gradcheck;
pub mod panics;
pub mod replay;

use std::path::PathBuf;

use burn::backend::Autodiff;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Element, Int, Tensor, TensorCreationOptions, TensorData};
use burn_losses::Reduction;
use serde_json::Value;

#[cfg(feature = "ndarray")]
pub type NdArrayAutodiff = Autodiff<burn::backend::NdArray<f32>>;
/// wgpu without Burn's `fusion`: the `CubeBackend` that `burn::backend::Wgpu` wraps when `fusion`
/// is on (and is, when it is off).
#[cfg(feature = "wgpu")]
pub type WgpuUnfused =
    burn::backend::wgpu::CubeBackend<burn::backend::wgpu::WgpuRuntime, f32, i32, u32>;
#[cfg(feature = "wgpu")]
pub type WgpuAutodiff = Autodiff<WgpuUnfused>;
/// wgpu with Burn's `fusion` (`burn::backend::Wgpu` when the feature is on, as it is by default in
/// `burn-wgpu`): operations are recorded lazily and compiled into fused kernels.
#[cfg(feature = "fusion")]
pub type WgpuFusion = burn::backend::Wgpu;
#[cfg(feature = "fusion")]
pub type WgpuFusionAutodiff = Autodiff<WgpuFusion>;
/// The backend of the `generic` lane, whose tests run inside
/// [`burn_losses::backends::generic_path`], so the generic code is replayed on the CPU whatever the
/// backend registry (`src/backends`) lists. NdArray with 32-bit integers, so class indices also
/// go through another integer type.
#[cfg(feature = "ndarray")]
pub type GenericAutodiff = Autodiff<burn::backend::NdArray<f32, i32>>;
/// The f64 backend of the finite-difference checks.
#[cfg(feature = "ndarray")]
pub type F64Autodiff = Autodiff<burn::backend::NdArray<f64>>;

/// Instantiates generic test functions `fn name<B: AutodiffBackend>(device: &B::Device)` once per
/// autodiff lane enabled by Cargo features: a module per lane, a test per function. The `generic`
/// lane runs its tests inside [`burn_losses::backends::generic_path`].
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        $crate::on_lanes!(
            [ndarray, "ndarray", $crate::common::NdArrayAutodiff, $crate::common::directly],
            [generic, "ndarray", $crate::common::GenericAutodiff, burn_losses::backends::generic_path],
            [wgpu, "wgpu", $crate::common::WgpuAutodiff, $crate::common::directly],
            [wgpu_fusion, "fusion", $crate::common::WgpuFusionAutodiff, $crate::common::directly];
            $($test),*
        );
    };
}

/// Instantiates generic test functions `fn name<B: Lane>(device: &B::Device)` on the plain
/// backends under those of [`on_every_backend`] (values only; the same functions also go to
/// [`on_every_backend`] for their gradients).
#[macro_export]
macro_rules! on_every_plain_backend {
    ($($test:ident),* $(,)?) => {
        $crate::on_lanes!(
            [ndarray_plain, "ndarray", burn::backend::NdArray<f32>, $crate::common::directly],
            [wgpu_plain, "wgpu", $crate::common::WgpuUnfused, $crate::common::directly],
            [wgpu_fusion_plain, "fusion", $crate::common::WgpuFusion, $crate::common::directly];
            $($test),*
        );
    };
}

/// A module per `[name, Cargo feature, backend, runner]`, a test per function, its body run by
/// `runner` ([`directly`] or [`burn_losses::backends::generic_path`]).
#[macro_export]
macro_rules! on_lanes {
    ($([$lane:ident, $feature:literal, $backend:ty, $run:path]),*; $($test:ident),*) => {
        $crate::on_lanes!($([$lane, $feature, $backend, $run]),*; [$($test),*]);
    };
    ($([$lane:ident, $feature:literal, $backend:ty, $run:path]),*; $tests:tt) => {
        $($crate::on_lanes!(@lane $lane, $feature, $backend, $run, $tests);)*
    };
    (@lane $lane:ident, $feature:literal, $backend:ty, $run:path, [$($test:ident),*]) => {
        #[cfg(feature = $feature)]
        mod $lane {
            $(
                #[test]
                fn $test() {
                    $run(|| super::$test::<$backend>(&Default::default()));
                }
            )*
        }
    };
}

/// Runs `test` as it is (the runner of every lane but `generic`).
pub fn directly<R>(test: impl FnOnce() -> R) -> R {
    test()
}

/// The reductions every fixture records, each as a fixture key by [`key`].
pub const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::BatchMean];

/// The fixture key under which PyTorch's value for `reduction` is stored.
pub fn key(reduction: Reduction) -> &'static str {
    match reduction {
        Reduction::Mean => "mean",
        Reduction::Sum => "sum",
        Reduction::BatchMean => "batchmean",
    }
}

/// A backend the fixture replays run on: with autodiff (values and gradients, the inputs tracked
/// and untracked) or without it (values only).
pub trait Lane: Backend {
    /// The gradients of one backward pass (`()` without autodiff).
    type Gradients;
    /// The replay passes of this lane, by whether the inputs are tracked: with autodiff tracked
    /// (values and gradients) then untracked (values: a loss may take another path when no
    /// gradient is needed), without it one pass (values).
    const PASSES: &'static [bool];
    /// `tensor` marked for differentiation where the lane differentiates.
    fn track<const D: usize>(tensor: Tensor<Self, D>) -> Tensor<Self, D>;
    /// [`Lane::track`] when `track` is set, else `tensor` unchanged.
    fn track_if<const D: usize>(track: bool, tensor: Tensor<Self, D>) -> Tensor<Self, D> {
        if track { Self::track(tensor) } else { tensor }
    }
    /// The backward pass from a one-element loss; `None` without autodiff.
    fn backward(value: Tensor<Self, 1>) -> Option<Self::Gradients>;
    /// The gradient that reached `tensor`, if any.
    fn grad<const D: usize>(
        tensor: &Tensor<Self, D>,
        gradients: &Self::Gradients,
    ) -> Option<TensorData>;
}

impl<B: Backend> Lane for Autodiff<B> {
    type Gradients = <Self as AutodiffBackend>::Gradients;
    const PASSES: &'static [bool] = &[true, false];

    fn track<const D: usize>(tensor: Tensor<Self, D>) -> Tensor<Self, D> {
        tensor.require_grad()
    }

    fn backward(value: Tensor<Self, 1>) -> Option<Self::Gradients> {
        Some(value.backward())
    }

    fn grad<const D: usize>(
        tensor: &Tensor<Self, D>,
        gradients: &Self::Gradients,
    ) -> Option<TensorData> {
        tensor.grad(gradients).map(|gradient| gradient.into_data())
    }
}

macro_rules! plain_lanes {
    ($($feature:literal $backend:ty),*) => {$(
        #[cfg(feature = $feature)]
        impl Lane for $backend {
            type Gradients = ();
            const PASSES: &'static [bool] = &[true];

            fn track<const D: usize>(tensor: Tensor<Self, D>) -> Tensor<Self, D> {
                tensor
            }

            fn backward(_value: Tensor<Self, 1>) -> Option<()> {
                None
            }

            fn grad<const D: usize>(_tensor: &Tensor<Self, D>, _gradients: &()) -> Option<TensorData> {
                None
            }
        }
    )*};
}

plain_lanes!(
    "ndarray" burn::backend::NdArray<f32>,
    "ndarray" burn::backend::NdArray<f32, i32>,
    "wgpu" WgpuUnfused,
    "fusion" WgpuFusion
);

/// Creation options with the backend's own float type. Burn 0.21 otherwise stores a new tensor
/// in its device's default float type, which the first backend used on that device fixes for
/// the whole process: `NdArray<f32>` and `NdArray<f64>` share the CPU device, so a test binary
/// that uses both would silently run its f64 finite differences in f32 (or its f32 replay in
/// f64), depending on which test touched the device first.
pub fn float_options<B: Backend>(device: &B::Device) -> TensorCreationOptions<B> {
    TensorCreationOptions::new(device.clone()).with_dtype(<B::FloatElem as Element>::dtype())
}

/// A tensor as the fixture generator writes it: a shape and row-major values, where
/// non-finite values are the strings "nan", "inf" and "-inf".
#[derive(Debug, Clone)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

pub fn number(value: &Value) -> f64 {
    match value {
        Value::Number(number) => number.as_f64().expect("a fixture number"),
        Value::String(text) => match text.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("unexpected fixture string {other:?}"),
        },
        other => panic!("expected a fixture number, got {other}"),
    }
}

impl Array {
    pub fn from_json(value: &Value) -> Self {
        let shape = value["shape"]
            .as_array()
            .expect("a fixture tensor has a shape")
            .iter()
            .map(|dim| dim.as_u64().expect("a dimension") as usize)
            .collect();
        let data = value["data"]
            .as_array()
            .expect("a fixture tensor has data")
            .iter()
            .map(number)
            .collect();
        Self { shape, data }
    }

    pub fn float<B: Backend, const D: usize>(&self, device: &B::Device) -> Tensor<B, D> {
        let data: Vec<f32> = self.data.iter().map(|v| *v as f32).collect();
        Tensor::from_data(
            TensorData::new(data, self.shape.clone()),
            float_options::<B>(device),
        )
    }

    pub fn float_f64<B: Backend, const D: usize>(&self, device: &B::Device) -> Tensor<B, D> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), self.shape.clone()),
            float_options::<B>(device),
        )
    }

    pub fn int<B: Backend, const D: usize>(&self, device: &B::Device) -> Tensor<B, D, Int> {
        let data: Vec<i64> = self.data.iter().map(|v| *v as i64).collect();
        Tensor::from_data(TensorData::new(data, self.shape.clone()), device)
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }
}

/// One loss's fixture file, `tests/fixtures/<name>.json`.
pub fn load_fixture(name: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        &format!("{name}.json"),
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("bad JSON in {}: {error}", path.display()))
}

/// Tolerances of f32 results against PyTorch's float64 reference.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub relative: f64,
    pub absolute: f64,
}

pub const F32: Tolerance = Tolerance {
    relative: 1e-4,
    absolute: 1e-5,
};

/// Whether `actual` matches `expected`: NaN matches NaN, infinities match by sign, finite values
/// within `|a - e| <= absolute + relative * |e|`.
pub fn close(actual: f64, expected: f64, tolerance: Tolerance) -> bool {
    if expected.is_nan() || actual.is_nan() {
        return expected.is_nan() && actual.is_nan();
    }
    if expected.is_infinite() || actual.is_infinite() {
        return expected == actual;
    }
    (actual - expected).abs() <= tolerance.absolute + tolerance.relative * expected.abs()
}

/// Asserts element-wise closeness of `actual` to `expected`, naming `what` and the first
/// mismatching index.
#[track_caller]
pub fn assert_close(what: &str, actual: TensorData, expected: &Array, tolerance: Tolerance) {
    assert_eq!(actual.shape.to_vec(), expected.shape, "{what}: shape");
    let actual: Vec<f64> = actual.iter::<f64>().collect();
    for (index, (a, e)) in actual.iter().zip(&expected.data).enumerate() {
        assert!(
            close(*a, *e, tolerance),
            "{what}: element {index}: got {a}, PyTorch {e} (tolerance {tolerance:?})"
        );
    }
}

/// Asserts closeness of a one-element tensor to `expected`.
#[track_caller]
pub fn assert_scalar(what: &str, actual: TensorData, expected: f64, tolerance: Tolerance) {
    let actual: Vec<f64> = actual.iter::<f64>().collect();
    assert_eq!(actual.len(), 1, "{what}: a one-element tensor");
    assert!(
        close(actual[0], expected, tolerance),
        "{what}: got {}, PyTorch {expected} (tolerance {tolerance:?})",
        actual[0]
    );
}
