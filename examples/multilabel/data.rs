//! The data: an embedded synthetic multi-label set, or the user's CSV file.

use std::fmt;
use std::path::Path;

/// Samples with dense features and 0/1 labels, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub features: Vec<f32>,
    pub labels: Vec<f32>,
    pub num_features: usize,
    pub num_labels: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len() / self.num_labels
    }

    /// The share of samples carrying each label.
    pub fn label_frequencies(&self) -> Vec<f32> {
        let mut counts = vec![0.0f32; self.num_labels];
        for row in self.labels.chunks(self.num_labels) {
            for (count, label) in counts.iter_mut().zip(row) {
                *count += label;
            }
        }
        counts.iter().map(|c| c / self.len() as f32).collect()
    }

    /// The samples at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(rows.len() * self.num_features);
        let mut labels = Vec::with_capacity(rows.len() * self.num_labels);
        for &row in rows {
            features.extend_from_slice(
                &self.features[row * self.num_features..(row + 1) * self.num_features],
            );
            labels.extend_from_slice(
                &self.labels[row * self.num_labels..(row + 1) * self.num_labels],
            );
        }
        Dataset {
            features,
            labels,
            num_features: self.num_features,
            num_labels: self.num_labels,
        }
    }

    /// A shuffled split: `validation_share` of the samples for validation, the rest for training.
    pub fn split(&self, validation_share: f64, seed: u64) -> (Dataset, Dataset) {
        let mut rows: Vec<usize> = (0..self.len()).collect();
        Rng::new(seed).shuffle(&mut rows);
        let validation_len = ((self.len() as f64 * validation_share).round() as usize).max(1);
        let (validation, train) = rows.split_at(validation_len);
        (self.select(train), self.select(validation))
    }

    /// Scales every feature to zero mean and unit variance with the statistics of `self` (the
    /// training set), and applies the same scaling to `others`, so validation data never leaks
    /// into the scaling.
    pub fn standardize(&mut self, others: &mut [&mut Dataset]) {
        let n = self.len() as f32;
        for feature in 0..self.num_features {
            let column = || {
                self.features
                    .iter()
                    .skip(feature)
                    .step_by(self.num_features)
            };
            let mean = column().sum::<f32>() / n;
            let variance = column().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
            let scale = if variance > 0.0 {
                variance.sqrt().recip()
            } else {
                1.0
            };
            for data in std::iter::once(&mut *self).chain(others.iter_mut().map(|d| &mut **d)) {
                let width = data.num_features;
                for value in data.features.iter_mut().skip(feature).step_by(width) {
                    *value = (*value - mean) * scale;
                }
            }
        }
    }
}

/// A small deterministic generator (SplitMix64), so the synthetic data set is the same on every
/// machine and every version of every dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5851_F42D_4C95_7F2D)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// The shape of the synthetic data set.
#[derive(Clone, Copy, Debug)]
pub struct SyntheticSpec {
    pub samples: usize,
    pub num_features: usize,
    pub num_labels: usize,
    pub seed: u64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            samples: 24000,
            num_features: 48,
            num_labels: 24,
            seed: 7,
        }
    }
}

/// A data set that behaves like real multi-label data (tags, findings, attributes):
/// - long-tailed label frequencies: label `k` is drawn with probability `0.4 / (k + 1)^0.9`, so
///   the head labels are on a third of the samples and the tail on about 2%;
/// - co-occurring labels: the labels come in groups of four around a shared topic, and a label
///   switches on its group's next label half of the time;
/// - overlapping features: every label's prototype shares a component with its group's
///   topic, so labels of one group are hard to tell apart, and every sample carries noise and
///   a few distractor directions. A sample may carry no label at all.
pub fn synthetic(spec: SyntheticSpec) -> Dataset {
    let SyntheticSpec {
        samples,
        num_features,
        num_labels,
        seed,
    } = spec;
    let mut rng = Rng::new(seed);
    let group_size = 4;
    let random_direction = |rng: &mut Rng| -> Vec<f64> {
        let v: Vec<f64> = (0..num_features).map(|_| rng.normal()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.into_iter().map(|x| x / norm).collect()
    };
    let topics: Vec<Vec<f64>> = (0..num_labels.div_ceil(group_size))
        .map(|_| random_direction(&mut rng))
        .collect();
    let prototypes: Vec<Vec<f64>> = (0..num_labels)
        .map(|label| {
            let own = random_direction(&mut rng);
            let topic = &topics[label / group_size];
            own.iter()
                .zip(topic)
                .map(|(o, t)| 0.75 * o + 0.65 * t)
                .collect()
        })
        .collect();
    let distractors: Vec<Vec<f64>> = (0..6).map(|_| random_direction(&mut rng)).collect();
    let prior: Vec<f64> = (0..num_labels)
        .map(|k| 0.4 / ((k + 1) as f64).powf(0.9))
        .collect();

    let mut features = Vec::with_capacity(samples * num_features);
    let mut labels = Vec::with_capacity(samples * num_labels);
    for _ in 0..samples {
        let mut row = vec![0.0f32; num_labels];
        for k in 0..num_labels {
            if rng.uniform() < prior[k] {
                row[k] = 1.0;
            }
        }
        for k in 0..num_labels {
            let next = k + 1;
            if row[k] == 1.0 && next % group_size != 0 && next < num_labels && rng.uniform() < 0.5 {
                row[next] = 1.0;
            }
        }
        let mut x: Vec<f64> = (0..num_features).map(|_| 0.9 * rng.normal()).collect();
        for (k, prototype) in prototypes.iter().enumerate() {
            if row[k] == 1.0 {
                let strength = 1.5 + 0.5 * rng.normal();
                x.iter_mut()
                    .zip(prototype)
                    .for_each(|(x, p)| *x += strength * p);
            }
        }
        for distractor in &distractors {
            let strength = 1.5 * rng.normal();
            x.iter_mut()
                .zip(distractor)
                .for_each(|(x, d)| *x += strength * d);
        }
        features.extend(x.into_iter().map(|v| v as f32));
        labels.extend(row);
    }
    Dataset {
        features,
        labels,
        num_features,
        num_labels,
    }
}

/// What is wrong with a CSV file, with the line and column (both 1-based) where it is. The
/// caller prefixes the file's path.
#[derive(Debug, PartialEq)]
pub enum CsvError {
    Unreadable {
        reason: String,
    },
    Empty,
    LabelCount {
        labels: usize,
        columns: usize,
    },
    Ragged {
        line: usize,
        expected: usize,
        found: usize,
    },
    NotANumber {
        line: usize,
        column: usize,
        cell: String,
    },
    NotALabel {
        line: usize,
        column: usize,
        cell: String,
    },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Unreadable { reason } => write!(f, "cannot read it: {reason}"),
            CsvError::Empty => write!(f, "no data rows"),
            CsvError::LabelCount { labels, columns } => write!(
                f,
                "--labels {labels} is out of range: the file has {columns} columns, and at least \
                 one must be a feature, so --labels must be between 1 and {}",
                columns.saturating_sub(1)
            ),
            CsvError::Ragged {
                line,
                expected,
                found,
            } => write!(
                f,
                "line {line}: expected {expected} columns (as the first row), found {found}"
            ),
            CsvError::NotANumber { line, column, cell } => {
                write!(f, "line {line}, column {column}: {cell:?} is not a number")
            }
            CsvError::NotALabel { line, column, cell } => write!(
                f,
                "line {line}, column {column}: label cells must be 0 or 1, found {cell:?}"
            ),
        }
    }
}

impl std::error::Error for CsvError {}

/// Reads a CSV file of feature columns followed by `num_labels` 0/1 label columns.
pub fn read_csv(path: &Path, num_labels: usize) -> Result<Dataset, CsvError> {
    let text = std::fs::read_to_string(path).map_err(|error| CsvError::Unreadable {
        reason: error.to_string(),
    })?;
    parse_csv(&text, num_labels)
}

/// Parses CSV text (comma-separated, no quoting) of feature columns followed by `num_labels`
/// 0/1 label columns. A first row of non-numeric cells only is taken as a header; blank lines
/// are skipped.
pub fn parse_csv(text: &str, num_labels: usize) -> Result<Dataset, CsvError> {
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .map(|(line, text)| (line, text.split(',').map(str::trim).collect::<Vec<_>>()))
        .peekable();
    if let Some((_, cells)) = rows.peek()
        && cells.iter().all(|cell| cell.parse::<f32>().is_err())
    {
        rows.next();
    }
    let columns = match rows.peek() {
        Some((_, cells)) => cells.len(),
        None => return Err(CsvError::Empty),
    };
    if num_labels == 0 || num_labels >= columns {
        return Err(CsvError::LabelCount {
            labels: num_labels,
            columns,
        });
    }
    let num_features = columns - num_labels;
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for (line, cells) in rows {
        if cells.len() != columns {
            return Err(CsvError::Ragged {
                line,
                expected: columns,
                found: cells.len(),
            });
        }
        for (index, cell) in cells.iter().enumerate() {
            let column = index + 1;
            let value = cell.parse::<f32>().ok().filter(|value| value.is_finite());
            if index < num_features {
                features.push(value.ok_or_else(|| CsvError::NotANumber {
                    line,
                    column,
                    cell: cell.to_string(),
                })?);
            } else {
                labels.push(value.filter(|v| *v == 0.0 || *v == 1.0).ok_or_else(|| {
                    CsvError::NotALabel {
                        line,
                        column,
                        cell: cell.to_string(),
                    }
                })?);
            }
        }
    }
    Ok(Dataset {
        features,
        labels,
        num_features,
        num_labels,
    })
}
